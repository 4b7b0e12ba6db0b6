"""A validated model compiled for exploration.

The state is one flat list of ints: shared variables, ghosts, then per
thread its program counter and the locals of each of its operations. Every
step becomes one generated Python function over that list (no dict lookups,
no tree walking in the hot loop). Steps that touch no shared or ghost
location are run eagerly right after the step before them: they commute with
every other thread's steps, so interleaving them would only multiply
schedules without adding behaviours.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ..lang.expr import TRUE, BinOp, Expr, Ghost, Local, Shared, Var, evaluate, to_python, variables
from ..lang.model import (
    DONE,
    Model,
    ModelError,
    Operation,
    Property,
    Step,
    Switch,
    Thread,
    VarDecl,
    validate,
)
from ..lang.retry import exit_condition
from .sticky import check_sticky

THREAD_DONE = -1
LOCAL_CHAIN_LIMIT = 10_000

State = list[int]
Transition = tuple[int, int | None]  # (thread index, chosen value or None)


@dataclass
class CompiledStep:
    thread: int
    op_index: int
    op: Operation
    step: Step
    guard: Callable[[State], object] | None  # None: always enabled
    apply: Callable[..., None]  # apply(s) or apply(s, value) for a choice
    local: bool
    choices: tuple[int, ...] | None
    slot: dict[Var, int]  # variable -> state slot, as seen from this step
    # Footprint for dependency analysis: location ids are state slots of
    # shared and ghost variables, plus Program.visible (see there).
    rlocs: tuple[int, ...] = ()
    wlocs: tuple[int, ...] = ()
    ronly: tuple[int, ...] = ()  # read and not written
    event: tuple[int, None, int, int] = (0, None, 0, 0)  # (thread, None, rmask, wmask)
    # A retry step: whether one more attempt, from the loop head in this state,
    # would leave the loop (explorer/retry.exit_condition).
    retry_guard: Callable[[State], object] | None = None
    retry_exits: Expr | None = None  # the same as an expression (for z3)
    # A guard split at its top-level "and"s, each part with the shared and ghost
    # locations it reads: DPOR tells from them which writes could enable a step.
    conjuncts: tuple[tuple[Callable[[State], object], tuple[int, ...]], ...] = ()
    rmask: int = 0
    wmask: int = 0


@dataclass
class ThreadCode:
    name: str
    pc_slot: int
    entry: int
    steps: list[CompiledStep]
    local_slots: dict[tuple[int, str], int]  # (op index, local name) -> slot
    daemon: bool = False  # never returns; not waited for (see model.Thread)


@dataclass(frozen=True)
class StepRecord:
    """One executed step with the values it saw and produced (for traces)."""

    thread: int
    thread_name: str
    op: str
    op_args: str
    label: str
    line: str
    code: str
    reads: tuple[tuple[str, str], ...]  # (location, rendered value) before the step
    writes: tuple[tuple[str, str], ...]  # (location, rendered value) after the step
    locals: tuple[tuple[str, str], ...]  # locals that changed, rendered after the step
    chosen: str | None = None
    fused: bool = False  # ran as part of the previous step's event
    tags: tuple[str, ...] = ()  # the step's tags (see Step.tags)
    # The step's footprint as location ids (CompiledStep.rlocs/wlocs, including
    # Program.visible): what the explorer's dependency relation was computed from.
    rlocs: tuple[int, ...] = ()
    wlocs: tuple[int, ...] = ()
    # Under a weak memory model (explorer/memory.fold_buffers): the stores this
    # step left in a store buffer, as (location, CPU, value), and the locations
    # it loaded from its own CPU's buffer.
    buffered: tuple[tuple[str, str, str], ...] = ()
    forwarded: tuple[str, ...] = ()


def render(value: int, decl: VarDecl) -> str:
    value = int(value)
    if decl.fmt == "hex":
        return hex(value)
    if decl.fmt == "signed":
        return str(value - (1 << 64) if value >= 1 << 63 else value)
    if decl.fmt == "bool":
        return "true" if value else "false"
    return str(value)


class Program:
    """The executable form of a model: initial state, enabled transitions, execution."""

    def __init__(self, model: Model):
        validate(model)
        self.model = model
        self.names: list[str] = []
        self.decls: list[VarDecl] = []
        self.slot: dict[Var, int] = {}
        for name, decl in model.shared.items():
            self._alloc(Shared(name), name, decl)
        for name, decl in model.ghosts.items():
            self._alloc(Ghost(name), name, decl)
        self.threads: list[ThreadCode] = [
            self._compile_thread(i, t) for i, t in enumerate(model.threads)
        ]
        self._waited = [c for c in self.threads if not c.daemon]
        self.invariants = [p for p in model.properties if p.kind == "invariant"]
        self.finals = [p for p in model.properties if p.kind == "final"]
        self._inv = self._compile_props(self.invariants)
        self._each_inv = [self._compile_props([p]) for p in self.invariants]
        self.nlocs = len(model.shared) + len(model.ghosts)
        self.visible = self.nlocs
        self._footprints()
        self._fin = self._compile_props(self.finals)
        check_sticky(self)  # POR trusts sticky=True (see _footprints): prove it first

    # -- compilation --------------------------------------------------------

    def _alloc(self, var: Var | None, name: str, decl: VarDecl) -> int:
        if var is not None:
            self.slot[var] = len(self.names)
        self.names.append(name)
        self.decls.append(decl)
        return len(self.names) - 1

    def _compile_thread(self, index: int, thread: Thread) -> ThreadCode:
        pc_slot = self._alloc(None, f"{thread.name}.pc", VarDecl())
        local_slots: dict[tuple[int, str], int] = {}
        for k, op in enumerate(thread.ops):
            for name, decl in op.locals.items():
                local_slots[(k, name)] = self._alloc(None, f"{thread.name}.{name}", decl)
        # Number every step of every operation; an operation's return falls
        # through to the next operation's entry.
        pcs: dict[tuple[int, str], int] = {}
        for k, op in enumerate(thread.ops):
            for step in op.steps:
                pcs[(k, step.label)] = len(pcs)
        for k, _op in enumerate(thread.ops):
            after = thread.ops[k + 1] if k + 1 < len(thread.ops) else None
            pcs[(k, DONE)] = pcs[(k + 1, after.entry)] if after else THREAD_DONE
        code = ThreadCode(
            thread.name, pc_slot, pcs[(0, thread.ops[0].entry)], [], local_slots, thread.daemon
        )
        for k, op in enumerate(thread.ops):
            slot = dict(self.slot)
            for (opk, name), s in local_slots.items():
                if opk == k:
                    slot[Local(name)] = s
            for step in op.steps:
                code.steps.append(
                    self._compile_step(index, thread, pc_slot, k, op, step, pcs, slot)
                )
        return code

    def _compile_step(
        self,
        index: int,
        thread: Thread,
        pc_slot: int,
        k: int,
        op: Operation,
        step: Step,
        pcs: dict[tuple[int, str], int],
        slot: dict[Var, int],
    ) -> CompiledStep:
        body: list[str] = []
        for i, (_lhs, rhs) in enumerate(step.update):
            body.append(f"_{i} = {to_python(rhs, slot)}")
        for i, (lhs, _rhs) in enumerate(step.update):
            body.append(f"s[{slot[lhs]}] = _{i}")
        if step.choose is not None:
            body.append(f"s[{slot[Local(step.choose.local)]}] = v")
        nxt = self._next_expr(step.next, k, pcs, slot)
        exits = pcs[(k, DONE)]
        resets = [
            f"s[{slot[Local(name)]}] = {decl.init}" for name, decl in op.locals.items()
        ]
        targets = step.next.labels() if isinstance(step.next, Switch) else [step.next]
        body.append(f"n = {nxt}")
        body.append(f"s[{pc_slot}] = n")
        if resets and DONE in targets:
            # Reset the operation's locals when it returns: equal futures, equal states.
            if all(t == DONE for t in targets):
                body.extend(resets)
            else:
                body.append(f"if n == {exits}:")
                body.extend("    " + r for r in resets)
        args = "s, v" if step.choose is not None else "s"
        src = f"def apply({args}):\n" + "".join(f"    {line}\n" for line in body)
        guard_src = None
        if step.guard != TRUE:
            guard_src = f"def guard(s):\n    return {to_python(step.guard, slot)}\n"
        namespace: dict[str, Callable[..., Any]] = {}
        exec(compile(src, f"<{thread.name}:{op.name}:{step.label}>", "exec"), namespace)
        guard = None
        if guard_src is not None:
            exec(compile(guard_src, f"<guard {step.label}>", "exec"), namespace)
            guard = namespace["guard"]
        retry_guard = None
        leaves: Expr | None = None
        if step.retry:  # never taken (see cut_off)
            leaves = exit_condition(op, step)
            src = f"def leaves(s):\n    return {to_python(leaves, slot)}\n"
            exec(compile(src, f"<retry {step.label}>", "exec"), namespace)
            retry_guard = namespace["leaves"]
            guard = _never
        return CompiledStep(
            thread=index,
            op_index=k,
            op=op,
            step=step,
            guard=guard,
            apply=namespace["apply"],
            local=step.is_local and not step.retry,  # never run, not even fused
            choices=step.choose.values if step.choose else None,
            slot=slot,
            retry_guard=retry_guard,
            retry_exits=leaves,
        )

    def _next_expr(
        self, nxt: str | Switch, k: int, pcs: dict[tuple[int, str], int], slot: dict[Var, int]
    ) -> str:
        if isinstance(nxt, str):
            return str(pcs[(k, nxt)])
        out = str(pcs[(k, nxt.default)])
        for cond, label in reversed(nxt.cases):
            out = f"({pcs[(k, label)]} if {to_python(cond, slot)} else {out})"
        return out

    def _footprints(self) -> None:
        """Declared accesses as location ids and bit masks.

        Every step that writes a location an invariant reads also writes the
        pseudo-location `visible`: such steps are then mutually dependent, so
        a partial-order reduction, which checks one interleaving per
        equivalence class, still sees every value the invariant can observe.
        """
        observed = {
            self.slot[v] for p in self.invariants if not p.sticky for v in variables(p.expr)
            if isinstance(v, Shared | Ghost)
        }
        for cs in self.iter_steps():
            r = tuple(sorted(self._loc(n) for n in cs.step.reads))
            w = tuple(sorted(self._loc(n) for n in cs.step.writes))
            if observed.intersection(w):
                w = w + (self.visible,)
            cs.rlocs, cs.wlocs = r, w
            if cs.guard is not None and cs.retry_guard is None:
                cs.conjuncts = tuple(self._conjunct(cs, c) for c in _conjuncts(cs.step.guard))
            cs.ronly = tuple(x for x in r if x not in w)
            cs.rmask = sum(1 << x for x in r)
            cs.wmask = sum(1 << x for x in w)
            cs.event = (cs.thread, None, cs.rmask, cs.wmask)

    def _conjunct(self, cs: CompiledStep, part: Expr
                  ) -> tuple[Callable[[State], object], tuple[int, ...]]:
        namespace: dict[str, Callable[[State], object]] = {}
        src = f"def part(s):\n    return {to_python(part, cs.slot)}\n"
        exec(compile(src, f"<guard part {cs.step.label}>", "exec"), namespace)
        locs = tuple(sorted(self.slot[v] for v in variables(part) if isinstance(v, Shared | Ghost)))
        return namespace["part"], locs

    def _compile_props(self, props: list[Property]) -> Callable[[State], int]:
        """One function returning the index of the first failing property, or -1."""
        lines = ["def check(s):"]
        for i, p in enumerate(props):
            lines.append(f"    if not ({to_python(p.expr, self.slot)}): return {i}")
        lines.append("    return -1")
        namespace: dict[str, Callable[[State], int]] = {}
        exec(compile("\n".join(lines) + "\n", "<properties>", "exec"), namespace)
        return namespace["check"]

    # -- execution ------------------------------------------------------------

    def initial_state(self) -> State:
        s = [d.init for d in self.decls]
        for t, code in enumerate(self.threads):
            s[code.pc_slot] = code.entry
            self._settle(s, t)
        return s

    def transitions(self, s: State) -> list[Transition]:
        """Enabled transitions in thread order; a choice yields one per value."""
        out: list[Transition] = []
        for t, code in enumerate(self.threads):
            pc = s[code.pc_slot]
            if pc < 0:
                continue
            st = code.steps[pc]
            if st.guard is not None and not st.guard(s):
                continue
            if st.choices is None:
                out.append((t, None))
            else:
                out.extend((t, v) for v in st.choices)
        return out

    def execute(self, s: State, t: int, v: int | None = None) -> int:
        """Runs thread t's next step (and the local steps after it); returns steps run."""
        code = self.threads[t]
        steps = code.steps
        st = steps[s[code.pc_slot]]
        if v is None:
            st.apply(s)
        else:
            st.apply(s, v)
        pc = s[code.pc_slot]
        if pc >= 0 and steps[pc].local:
            return 1 + self._settle(s, t)
        return 1

    def _settle(self, s: State, t: int) -> int:
        code = self.threads[t]
        n = 0
        pc = s[code.pc_slot]
        while pc >= 0:
            st = code.steps[pc]
            if not st.local or (st.guard is not None and not st.guard(s)):
                break
            st.apply(s)
            n += 1
            if n > LOCAL_CHAIN_LIMIT:
                raise ModelError(
                    f"thread {code.name}: step {st.step.label!r} loops without "
                    "touching shared memory"
                )
            pc = s[code.pc_slot]
        return n

    def finished(self, s: State) -> bool:
        """Every thread that is not a daemon has returned."""
        return all(s[c.pc_slot] < 0 for c in self._waited)

    def cut_off(self, s: State) -> bool:
        """At a state where nothing can move: whether the run is cut off rather
        than deadlocked, because a thread waits at a retry step and one more
        attempt would now leave its loop.

        Retrying a loop that only reads (a scan that found readers) is never
        explored; explorer/lang/retry.py checks, on load, that a failed attempt
        leaves no trace. Removing it from this run gives a run in which the
        thread's attempt can come here instead, and succeed: another run,
        which the explorer reaches on its own (the attempt's loads race with
        the writes since). So this run adds nothing and is dropped. A thread
        whose next attempt would fail the same way again retries for ever:
        stuck for good, a deadlock. This is GenMC's treatment of await loops.
        """
        for code in self._waited:
            pc = s[code.pc_slot]
            if pc >= 0:
                rg = code.steps[pc].retry_guard
                if rg is not None and rg(s):
                    return True
        return False

    def failing_invariant(self, s: State) -> Property | None:
        i = self._inv(s)
        return None if i < 0 else self.invariants[i]

    def failing_invariants(self, s: State) -> list[Property]:
        """Every invariant false in s (collect mode records them all)."""
        return [p for p, check in zip(self.invariants, self._each_inv, strict=True)
                if check(s) >= 0]

    def failing_final(self, s: State) -> Property | None:
        i = self._fin(s)
        return None if i < 0 else self.finals[i]

    def current(self, s: State, t: int) -> CompiledStep | None:
        pc = s[self.threads[t].pc_slot]
        return None if pc < 0 else self.threads[t].steps[pc]

    def blocked(self, s: State, daemons: bool = False) -> list[tuple[int, CompiledStep]]:
        """Unfinished threads whose next step is disabled (daemons too if asked:
        they are never reported as blocked, but DPOR must race their guards)."""
        out = []
        for t, code in enumerate(self.threads):
            pc = s[code.pc_slot]
            if pc >= 0 and (daemons or not code.daemon):
                st = code.steps[pc]
                if st.guard is not None and not st.guard(s):
                    out.append((t, st))
        return out

    # -- traces ---------------------------------------------------------------

    def execute_traced(self, s: State, t: int, v: int | None = None) -> list[StepRecord]:
        """Like execute, but records every step with the values it read and wrote."""
        code = self.threads[t]
        records = [self._record(s, t, v, fused=False)]
        chain = 0
        while True:
            pc = s[code.pc_slot]
            if pc < 0:
                break
            st = code.steps[pc]
            if not st.local or (st.guard is not None and not st.guard(s)):
                break
            records.append(self._record(s, t, None, fused=True))
            chain += 1
            if chain > LOCAL_CHAIN_LIMIT:
                raise ModelError(f"thread {code.name}: local steps loop forever")
        return records

    def _record(self, s: State, t: int, v: int | None, fused: bool) -> StepRecord:
        code = self.threads[t]
        st = code.steps[s[code.pc_slot]]
        step = st.step
        before = list(s)
        reads = tuple((name, self._show(before, name)) for name in step.reads)
        # Locals are reset when an operation returns, so the values a step
        # assigned are recomputed with the reference interpreter.
        lookup = _Lookup(before, st.slot)
        assigned = [
            (lhs.name, render(evaluate(rhs, lookup), st.op.locals[lhs.name]))
            for lhs, rhs in step.update
            if isinstance(lhs, Local)
        ]
        if v is None:
            st.apply(s)
        else:
            st.apply(s, v)
        writes = tuple((name, self._show(s, name)) for name in step.writes)
        chosen = None
        if v is not None and step.choose is not None:
            names = step.choose.names
            idx = step.choose.values.index(v)
            chosen = names[idx] if idx < len(names) else str(v)
            assigned.append((step.choose.local, chosen))
        return StepRecord(
            thread=t,
            thread_name=code.name,
            op=st.op.name,
            op_args=st.op.args,
            label=step.label,
            line=step.line,
            code=step.code,
            reads=reads,
            writes=writes,
            locals=tuple(assigned),
            chosen=chosen,
            fused=fused,
            tags=step.tags,
            rlocs=st.rlocs,
            wlocs=st.wlocs,
        )

    def _show(self, s: State, name: str) -> str:
        slot = self._loc(name)
        return render(s[slot], self.decls[slot])

    def _loc(self, name: str) -> int:
        if name in self.model.shared:
            return self.slot[Shared(name)]
        return self.slot[Ghost(name)]

    def iter_steps(self) -> Iterator[CompiledStep]:
        for code in self.threads:
            yield from code.steps


def _conjuncts(e: Expr) -> list[Expr]:
    if isinstance(e, BinOp) and e.op == "and":
        return _conjuncts(e.left) + _conjuncts(e.right)
    return [e]


def _never(s: State) -> bool:
    return False


class _Lookup(dict[Var, int]):
    """Variable values of a state, for the reference interpreter."""

    def __init__(self, state: State, slot: dict[Var, int]):
        super().__init__()
        self._state = state
        self._slot = slot

    def __missing__(self, var: Var) -> int:
        return int(self._state[self._slot[var]])
