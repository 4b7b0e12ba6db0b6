"""A compiled Program unrolled into a bounded-model-checking formula.

Per BMC step i there is one z3 term per state slot (64-bit bit-vectors for
shared, ghost and local variables; 16 bits for program counters), a
scheduler choice ``sched@i`` (a thread index, or ``stutter``: the run has
ended; once stuttering, always stuttering, so runs shorter than the bound are
included) and, when some step makes a nondeterministic choice, ``choice@i``.
The scheduled thread runs one *event*, as Program.execute does: one step that
is not local (its guard must hold; its update's right-hand sides are read in
state i; the next label, a Switch evaluated after the update, gives the new
pc; an operation that returns resets its locals), then the local steps after
it, settled in one topological pass (see `_settle`). Every other slot keeps
its value. A retry step is never taken (Program.cut_off): a run waiting there
is cut off when one more attempt would leave the loop, else a deadlock, as in
the explorer. So a z3 run is an explorer schedule step for step
(`schedule_from_model`).

Nothing here knows any particular model: guards, updates, branches and
properties are the model's own expressions, translated by `terms`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import z3

from ..compile.program import THREAD_DONE, CompiledStep, Program, Transition
from ..lang.expr import WIDTH, Ghost, Local, Shared, Var
from ..lang.model import DONE, ModelError, Switch, VarDecl
from ..lang.terms import Env, to_bool, to_bv
from .cfg import ThreadFlow, thread_flow

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
    pcs: list[dict[int, int]] = field(default_factory=list)  # per thread: id(step) -> pc
    local_order: list[list[int]] = field(default_factory=list)  # local pcs, topologically
    local_slots: list[set[int]] = field(default_factory=list)  # per thread: its locals' slots

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
    for t, code in enumerate(program.threads):
        u.flows.append(thread_flow(program, t))
        u.pcs.append({id(cs): p for p, cs in enumerate(code.steps)})
        u.local_order.append(local_order(program, t, u.flows[t]))
        u.local_slots.append(set(code.local_slots.values()))
    init = _initial(program, u.inputs)
    st = dict(enumerate(init))
    for t in range(len(program.threads)):  # leading local steps, as initial_state runs them
        _settle(u, t, st)
    u.states.append([st[s] for s in range(len(init))])
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


def _canonical_order(u: Unrolling, j: int) -> None:
    """Partial-order reduction: only runs in lexicographic normal form are encoded.

    Two events are independent when neither writes a location the other reads
    or writes; events of one thread never are (each event's footprint holds a
    bit of its thread). Independent events commute: either order is enabled
    and both reach the same state. A run with an event j that is independent
    of every event from some i up to j-1 and belongs to a lower thread than
    event i can be rewritten with j moved before i, so it is not the normal
    form of its Mazurkiewicz trace and is excluded; each trace keeps exactly
    one run. As in the explorer, every step that writes what a non-sticky
    invariant reads also writes a pseudo-location, so states in between that
    an invariant could tell apart are never merged (final properties and
    deadlock are read at the end, which every order reaches).
    """
    rj, wj = u.footprints[j]
    acc_r, acc_w = u.footprints[j - 1]
    for i in range(j - 1, -1, -1):
        if i < j - 1:
            acc_r, acc_w = acc_r | u.footprints[i][0], acc_w | u.footprints[i][1]
        independent = z3.And((acc_w & (rj | wj)) == 0, (wj & acc_r) == 0)
        earlier = z3.And(z3.ULT(u.sched[j], u.sched[i]), u.sched[j] != u.stutter)
        u.solver.add(z3.Not(z3.And(earlier, independent)))


def local_order(program: Program, t: int, flow: ThreadFlow) -> list[int]:
    """Thread t's local steps in an order where each comes before the local steps it
    can jump to (ModelError if they loop: such a thread never finishes an event)."""
    steps = program.threads[t].steps
    order: list[int] = []
    state: dict[int, int] = {}  # 1 on the DFS path, 2 done

    def visit(p: int) -> None:
        if state.get(p) == 2:
            return
        if state.get(p) == 1:
            raise ModelError(f"thread {program.threads[t].name}: step "
                             f"{steps[p].step.label!r} loops without touching shared memory")
        state[p] = 1
        for q in flow.successors(p):
            if q != THREAD_DONE and steps[q].local:
                visit(q)
        state[p] = 2
        order.append(p)

    for p, cs in enumerate(steps):
        if cs.local:
            visit(p)
    return order[::-1]


def _apply(
    u: Unrolling, t: int, cs: CompiledStep, st: dict[int, z3.ExprRef], choice: z3.BitVecRef
) -> tuple[dict[int, z3.ExprRef], z3.BitVecRef]:
    """Thread t's step `cs` on state `st`: the slots it assigns and its next pc."""
    slot = cs.slot

    def pre(v: Var) -> z3.BitVecRef:
        return st[slot[v]]

    assigned: dict[int, z3.ExprRef] = {slot[lhs]: to_bv(rhs, pre) for lhs, rhs in cs.step.update}
    if cs.step.choose is not None:  # Program assigns the choice after the update
        assigned[slot[Local(cs.step.choose.local)]] = choice

    def post(v: Var) -> z3.BitVecRef:
        s = slot[v]
        return assigned.get(s, st[s])

    flow = u.flows[t]
    p = st_pc_index(u, t, cs)
    new_pc = _next_pc(flow, p, cs.step.next, post)
    labels = cs.step.next.labels() if isinstance(cs.step.next, Switch) else [cs.step.next]
    if DONE in labels:  # an operation that returns resets its locals, as Program does
        returns = new_pc == pc_value(flow.exits[cs.op_index])
        for name, decl in cs.op.locals.items():
            s = slot[Local(name)]
            assigned[s] = z3.If(returns, _init_value(decl, u.inputs), assigned.get(s, st[s]))
    return assigned, new_pc


def st_pc_index(u: Unrolling, t: int, cs: CompiledStep) -> int:
    return u.pcs[t][id(cs)]


def _settle(u: Unrolling, t: int, st: dict[int, z3.ExprRef]) -> None:
    """Runs thread t's enabled local steps on `st`, as Program's settle does.

    Local steps form a DAG (a loop of them is a model error); one pass in
    topological order runs any chain of them, whatever path it takes.
    """
    code = u.program.threads[t]
    pc_slot = code.pc_slot
    for p in u.local_order[t]:
        cs = code.steps[p]
        slot = cs.slot

        def pre(v: Var, slot: dict[Var, int] = slot) -> z3.BitVecRef:
            return st[slot[v]]

        runs = z3.And(st[pc_slot] == pc_value(p), to_bool(cs.step.guard, pre))
        assigned, new_pc = _apply(u, t, cs, st, z3.BitVecVal(0, WIDTH))
        for s, v in assigned.items():
            st[s] = z3.If(runs, v, st[s])
        st[pc_slot] = z3.If(runs, new_pc, st[pc_slot])


def _step(
    u: Unrolling, i: int, sched: z3.BitVecRef, choice: z3.BitVecRef
) -> tuple[list[z3.ExprRef], tuple[z3.BitVecRef, z3.BitVecRef]]:
    """Asserts state i+1 from state i: the scheduled thread runs one event (one
    step that is not local, then the local steps after it, as Program.execute).
    Returns state i+1's slots and the event's footprint."""
    prog, cur = u.program, u.states[i]
    nloc = prog.visible + 1 + len(prog.threads)  # locations, `visible`, one bit per thread
    reads: z3.BitVecRef = z3.BitVecVal(0, nloc)
    writes: z3.BitVecRef = z3.BitVecVal(0, nloc)
    value: list[z3.ExprRef] = list(cur)
    for t, code in enumerate(prog.threads):
        pc = cur[code.pc_slot]
        runs = sched == t
        enabled_t = []
        base: dict[int, z3.ExprRef] = dict(enumerate(cur))
        st = dict(base)
        touched: set[int] = {code.pc_slot}
        for p, cs in enumerate(code.steps):
            if cs.local or cs.step.retry:  # run by _settle / never taken (Program.cut_off)
                continue

            def pre(v: Var, slot: dict[Var, int] = cs.slot) -> z3.BitVecRef:
                return cur[slot[v]]

            at = pc == pc_value(p)
            enabled_t.append(z3.And(at, to_bool(cs.step.guard, pre)))
            assigned, new_pc = _apply(u, t, cs, base, choice)
            if cs.step.choose is not None:
                u.solver.add(z3.Implies(z3.And(runs, at),
                                        z3.Or(*(choice == v for v in cs.choices or ()))))
            for s, v in assigned.items():
                st[s] = z3.If(at, v, st[s])
                touched.add(s)
            st[code.pc_slot] = z3.If(at, new_pc, st[code.pc_slot])
            mine = 1 << (prog.visible + 1 + t)
            reads = z3.If(z3.And(runs, at), z3.BitVecVal(cs.rmask | mine, nloc), reads)
            writes = z3.If(z3.And(runs, at), z3.BitVecVal(cs.wmask | mine, nloc), writes)
        if u.local_order[t]:
            _settle(u, t, st)
            touched |= u.local_slots[t]
        for s in touched:
            value[s] = z3.If(runs, st[s], value[s])
        # The scheduled thread must be able to move.
        u.solver.add(z3.Implies(runs, z3.Or(*enabled_t) if enabled_t else z3.BoolVal(False)))
    # A fresh variable per slot that may change keeps the terms small; a slot
    # no step writes stays the same term all along.
    nxt: list[z3.ExprRef] = []
    for s, name in enumerate(prog.names):
        if value[s] is cur[s]:
            nxt.append(cur[s])
            continue
        # Slot numbers keep names unique: two operations of a thread may have
        # locals of the same name, which Program names alike.
        var = z3.BitVec(f"{name}#{s}@{i + 1}", cur[s].size())
        u.solver.add(var == value[s])
        nxt.append(var)
    return nxt, (reads, writes)


def _next_pc(flow: ThreadFlow, p: int, nxt: str | Switch, post: Env) -> z3.BitVecRef:
    targets = flow.successors(p)
    out: z3.BitVecRef = z3.BitVecVal(pc_value(targets[-1]), PC_WIDTH)
    if isinstance(nxt, Switch):
        for (cond, _label), target in zip(
            reversed(nxt.cases), reversed(targets[:-1]), strict=True
        ):
            out = z3.If(to_bool(cond, post), z3.BitVecVal(pc_value(target), PC_WIDTH), out)
    return out


# -- what a state means ----------------------------------------------------------


def _state_env(u: Unrolling, i: int) -> Env:
    state, slot = u.states[i], u.program.slot

    def env(v: Var) -> z3.BitVecRef:
        assert isinstance(v, Shared | Ghost), "properties read no locals"
        return state[slot[v]]

    return env


def enabled(u: Unrolling, i: int, t: int) -> z3.BoolRef:
    code, state = u.program.threads[t], u.states[i]
    terms = []
    for p, cs in enumerate(code.steps):
        if cs.step.retry:
            continue

        def env(v: Var, slot: dict[Var, int] = cs.slot) -> z3.BitVecRef:
            return state[slot[v]]

        terms.append(z3.And(state[code.pc_slot] == pc_value(p), to_bool(cs.step.guard, env)))
    return z3.Or(*terms) if terms else z3.BoolVal(False)


def cut_off(u: Unrolling, i: int) -> z3.BoolRef:
    """Some thread waits at a retry step and one more attempt would leave its
    loop (Program.cut_off): such a run ends without a verdict."""
    state, terms = u.states[i], []
    for code in u.program.threads:
        if code.daemon:
            continue
        for p, cs in enumerate(code.steps):
            if cs.retry_exits is not None:
                def env(v: Var, slot: dict[Var, int] = cs.slot) -> z3.BitVecRef:
                    return state[slot[v]]

                terms.append(z3.And(state[code.pc_slot] == pc_value(p),
                                    to_bool(cs.retry_exits, env)))
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
        out[p.name] = z3.Not(to_bool(p.expr, env))
    end, done = terminal(u, i), finished(u, i)
    for p in u.program.finals:
        out[p.name] = z3.And(end, done, z3.Not(to_bool(p.expr, env)))
    out[deadlock] = z3.And(end, z3.Not(done), z3.Not(cut_off(u, i)))
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
        assert not cs.local, "an event starts at a step that is not local"
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


def value_at(u: Unrolling, i: int, var: Shared | Ghost) -> z3.BitVecRef:
    """The term for a shared or ghost variable in state i (for proofs over final states)."""
    return u.states[i][u.program.slot[var]]
