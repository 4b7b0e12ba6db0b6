"""A compiled Program unrolled into a bounded-model-checking formula.

Per BMC step i there is one z3 term per state slot (64-bit bit-vectors for
shared, ghost and local variables; 16 bits for program counters), a
scheduler choice ``sched@i`` (a thread index, or ``stutter``: the run has
ended; once stuttering, always stuttering, so runs shorter than the bound are
included) and, when some step makes a nondeterministic choice, ``choice@i``.
The scheduled thread runs exactly one model step: its guard must hold, its
update's right-hand sides are read in state i, the next label (a Switch is
evaluated after the update, as Program does) gives the new pc, and an
operation that returns resets its locals. Every other slot keeps its value.

Local steps are steps of their own here; the explorer fuses them into the
event before them. They touch no shared or ghost location, so properties
read the same values either way (see `schedule_from_model`).

Nothing here knows any particular model: guards, updates, branches and
properties are the model's own expressions, translated by `terms`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import z3

from ..expr import WIDTH, Ghost, Local, Shared, Var
from ..model import DONE, Switch, VarDecl
from ..program import THREAD_DONE, Program, Transition
from .cfg import ThreadFlow, thread_flow
from .terms import to_bool, to_bv

PC_WIDTH = 16
PC_DONE = (1 << PC_WIDTH) - 1  # THREAD_DONE as a pc bit-vector


def pc_value(pc: int) -> int:
    return PC_DONE if pc == THREAD_DONE else pc


@dataclass(frozen=True)
class Input:
    """A symbolic input: the z3 variable every slot declared with its name starts from."""

    name: str
    var: z3.BitVecRef
    low: int
    high: int


@dataclass
class Unrolling:
    """The formula for runs of up to `bound` steps, built one step at a time."""

    program: Program
    bound: int
    solver: z3.Solver
    states: list[list[z3.ExprRef]] = field(default_factory=list)
    sched: list[z3.BitVecRef] = field(default_factory=list)
    choice: list[z3.BitVecRef] = field(default_factory=list)
    inputs: dict[str, Input] = field(default_factory=dict)
    flows: list[ThreadFlow] = field(default_factory=list)
    # per BMC step: (read mask, write mask) of the step taken, over Program's location ids
    footprints: list[tuple[z3.BitVecRef, z3.BitVecRef]] = field(default_factory=list)

    @property
    def stutter(self) -> int:
        return len(self.program.threads)


def _initial(program: Program, inputs: dict[str, Input]) -> list[z3.ExprRef]:
    pc_slots = {code.pc_slot: code for code in program.threads}
    out: list[z3.ExprRef] = []
    for slot, decl in enumerate(program.decls):
        if slot in pc_slots:
            out.append(z3.BitVecVal(pc_value(pc_slots[slot].entry), PC_WIDTH))
        else:
            out.append(_init_value(decl, inputs))
    return out


def _init_value(decl: VarDecl, inputs: dict[str, Input]) -> z3.BitVecRef:
    if not decl.symbolic:
        return z3.BitVecVal(decl.init, WIDTH)
    known = inputs.get(decl.symbolic)
    if known is None:
        known = Input(decl.symbolic, z3.BitVec(f"input:{decl.symbolic}", WIDTH),
                      decl.low, decl.high)
        inputs[decl.symbolic] = known
    elif (known.low, known.high) != (decl.low, decl.high):
        raise ValueError(f"symbolic input {decl.symbolic} declared with two ranges")
    return known.var


def unroll(program: Program, bound: int, solver: z3.Solver | None = None) -> Unrolling:
    """Asserts the initial state and `bound` transitions; properties are separate."""
    u = Unrolling(program, bound, solver or z3.SolverFor("QF_BV"))
    u.flows = [thread_flow(program, t) for t in range(len(program.threads))]
    u.states.append(_initial(program, u.inputs))
    for inp in u.inputs.values():
        u.solver.add(z3.ULE(z3.BitVecVal(inp.low, WIDTH), inp.var),
                     z3.ULE(inp.var, z3.BitVecVal(inp.high, WIDTH)))
    sched_width = max(2, (u.stutter + 1).bit_length())
    has_choice = any(cs.choices is not None for cs in program.iter_steps())
    for i in range(bound):
        sched = z3.BitVec(f"sched@{i}", sched_width)
        choice = z3.BitVec(f"choice@{i}", WIDTH) if has_choice else z3.BitVecVal(0, WIDTH)
        u.sched.append(sched)
        u.choice.append(choice)
        u.solver.add(z3.ULE(sched, u.stutter))
        if i > 0:  # a run that has ended stays ended
            u.solver.add(z3.Implies(u.sched[i - 1] == u.stutter, sched == u.stutter))
        state, footprint = _step(u, i, sched, choice)
        u.states.append(state)
        u.footprints.append(footprint)
        if i > 0:
            _canonical_order(u, i)
    return u


def _canonical_order(u: Unrolling, i: int) -> None:
    """Peephole partial-order reduction (Wang, Yang, Kahlon, Gupta, TACAS 2008).

    Two adjacent steps of different threads that are independent (neither
    writes a location the other reads or writes) can be swapped without
    changing the state after both, or whether either is enabled; so only the
    order with the lower thread first is kept. Independence uses the
    Program's footprints, where every step that writes what a non-sticky
    invariant reads also writes a pseudo-location, so the states in between
    that an invariant could tell apart are never merged (as in the explorer).
    """
    (r1, w1), (r2, w2) = u.footprints[i - 1], u.footprints[i]
    independent = z3.And((w1 & (r2 | w2)) == 0, (w2 & r1) == 0)
    inverted = z3.And(z3.ULT(u.sched[i], u.sched[i - 1]), u.sched[i] != u.stutter)
    u.solver.add(z3.Not(z3.And(inverted, independent)))


def _step(
    u: Unrolling, i: int, sched: z3.BitVecRef, choice: z3.BitVecRef
) -> tuple[list[z3.ExprRef], tuple[z3.BitVecRef, z3.BitVecRef]]:
    """Asserts state i+1 from state i; returns state i+1's slots and the step's footprint."""
    prog, cur = u.program, u.states[i]
    nloc = prog.visible + 1
    reads: z3.BitVecRef = z3.BitVecVal(0, nloc)
    writes: z3.BitVecRef = z3.BitVecVal(0, nloc)
    # value[slot]: the If-chain giving slot's next value, starting from "unchanged".
    value: list[z3.ExprRef] = list(cur)
    moves: list[z3.BoolRef] = []
    for t, code in enumerate(prog.threads):
        pc = cur[code.pc_slot]
        runs = sched == t
        enabled_t = []
        for p, cs in enumerate(code.steps):
            slot = cs.slot

            def pre(v: Var, slot: dict[Var, int] = slot) -> z3.BitVecRef:
                return cur[slot[v]]  # type: ignore[return-value]

            at = pc == pc_value(p)
            guard = to_bool(cs.step.guard, pre)
            enabled_t.append(z3.And(at, guard))
            move = z3.And(runs, at)
            moves.append(move)
            assigned: dict[int, z3.BitVecRef] = {
                slot[lhs]: to_bv(rhs, pre) for lhs, rhs in cs.step.update
            }
            if cs.step.choose is not None:
                local = slot[Local(cs.step.choose.local)]
                assigned[local] = choice
                u.solver.add(z3.Implies(move, z3.Or(*(choice == v for v in cs.choices or ()))))

            def post(v: Var, slot: dict[Var, int] = slot,
                     assigned: dict[int, z3.BitVecRef] = assigned) -> z3.BitVecRef:
                s = slot[v]
                return assigned.get(s, cur[s])  # type: ignore[return-value]

            new_pc = _next_pc(u.flows[t], p, cs.step.next, post)
            # An operation that returns resets its locals (Program does the same).
            labels = cs.step.next.labels() if isinstance(cs.step.next, Switch) else [cs.step.next]
            if DONE in labels:
                exit_pc = pc_value(u.flows[t].exits[cs.op_index])
                returns = new_pc == exit_pc
                for name, decl in cs.op.locals.items():
                    s = slot[Local(name)]
                    reset = _init_value(decl, u.inputs)
                    assigned[s] = z3.If(returns, reset, assigned.get(s, cur[s]))
            for s, v in assigned.items():
                value[s] = z3.If(move, v, value[s])
            if cs.rmask or cs.wmask:
                reads = z3.If(move, z3.BitVecVal(cs.rmask, nloc), reads)
                writes = z3.If(move, z3.BitVecVal(cs.wmask, nloc), writes)
            value[code.pc_slot] = z3.If(move, new_pc, value[code.pc_slot])
        # The scheduled thread must be able to move.
        u.solver.add(z3.Implies(runs, z3.Or(*enabled_t) if enabled_t else z3.BoolVal(False)))
    # A fresh variable per slot that may change keeps the terms small; a slot
    # no step writes stays the same term all along.
    nxt: list[z3.ExprRef] = []
    for s, name in enumerate(prog.names):
        if value[s] is cur[s]:
            nxt.append(cur[s])
            continue
        var = z3.BitVec(f"{name}@{i + 1}", cur[s].size())  # type: ignore[attr-defined]
        u.solver.add(var == value[s])
        nxt.append(var)
    return nxt, (reads, writes)


def _next_pc(flow: ThreadFlow, p: int, nxt: str | Switch, post: object) -> z3.BitVecRef:
    targets = flow.successors(p)
    out: z3.BitVecRef = z3.BitVecVal(pc_value(targets[-1]), PC_WIDTH)
    if isinstance(nxt, Switch):
        for (cond, _label), target in zip(
            reversed(nxt.cases), reversed(targets[:-1]), strict=True
        ):
            out = z3.If(to_bool(cond, post), z3.BitVecVal(pc_value(target), PC_WIDTH), out)
    return out


# -- what a state means ----------------------------------------------------------


def _state_env(u: Unrolling, i: int) -> object:
    state, slot = u.states[i], u.program.slot

    def env(v: Var) -> z3.BitVecRef:
        assert isinstance(v, Shared | Ghost), "properties read no locals"
        return state[slot[v]]  # type: ignore[return-value]

    return env


def enabled(u: Unrolling, i: int, t: int) -> z3.BoolRef:
    code, state = u.program.threads[t], u.states[i]
    terms = []
    for p, cs in enumerate(code.steps):
        def env(v: Var, slot: dict[Var, int] = cs.slot) -> z3.BitVecRef:
            return state[slot[v]]  # type: ignore[return-value]

        terms.append(z3.And(state[code.pc_slot] == pc_value(p), to_bool(cs.step.guard, env)))
    return z3.Or(*terms) if terms else z3.BoolVal(False)


def terminal(u: Unrolling, i: int) -> z3.BoolRef:
    """No thread can move: the run has ended."""
    return z3.Not(z3.Or(*(enabled(u, i, t) for t in range(len(u.program.threads)))))


def finished(u: Unrolling, i: int) -> z3.BoolRef:
    """Every thread that is not a daemon has returned."""
    state = u.states[i]
    return z3.And(*(
        state[code.pc_slot] == PC_DONE for code in u.program.threads if not code.daemon
    ))


@dataclass(frozen=True)
class Violations:
    """Named violation conditions of one state: each property, and deadlock."""

    terms: dict[str, z3.BoolRef]

    def any(self) -> z3.BoolRef:
        return z3.Or(*self.terms.values()) if self.terms else z3.BoolVal(False)


def violations(u: Unrolling, i: int, deadlock: str) -> Violations:
    """What `check` reports: a failing invariant in any state; in a state where no
    thread can move, a failing final property (all returned) or a deadlock."""
    env = _state_env(u, i)
    out: dict[str, z3.BoolRef] = {}
    for p in u.program.invariants:
        out[p.name] = z3.Not(to_bool(p.expr, env))  # type: ignore[arg-type]
    end, done = terminal(u, i), finished(u, i)
    for p in u.program.finals:
        out[p.name] = z3.And(end, done, z3.Not(to_bool(p.expr, env)))  # type: ignore[arg-type]
    out[deadlock] = z3.And(end, z3.Not(done))
    return Violations(out)


# -- from a z3 model back to the explorer ------------------------------------------


def schedule_from_model(u: Unrolling, m: z3.ModelRef) -> list[Transition]:
    """The explorer's schedule of a satisfying run: one entry per non-local step.

    Local steps are dropped: Program.execute runs them right after the step
    before them (and initial_state before any), which is the same run because
    they read and write only their own thread's locals.
    """
    out: list[Transition] = []
    for i in range(u.bound):
        t = m.eval(u.sched[i], model_completion=True).as_long()
        if t == u.stutter:
            break
        code = u.program.threads[t]
        pc = m.eval(u.states[i][code.pc_slot], model_completion=True).as_long()
        cs = code.steps[pc]
        if cs.local:
            continue
        value = None
        if cs.choices is not None:
            value = m.eval(u.choice[i], model_completion=True).as_long()
        out.append((t, value))
    return out


def input_values(u: Unrolling, m: z3.ModelRef) -> dict[str, int]:
    """The values z3 chose for the symbolic inputs."""
    return {
        name: m.eval(inp.var, model_completion=True).as_long() for name, inp in u.inputs.items()
    }
