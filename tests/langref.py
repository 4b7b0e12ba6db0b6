"""A reference interpreter of the model language (sequential consistency), independent
of explorer.compile.program: written from explorer/lang/model.py's definitions, with the
slow tree-walking explorer.lang.expr.evaluate, over its own state representation.

- A step whose guard is false blocks its thread. Its update's right-hand
  sides are read in the state before it, a choice sets its local after the
  update, and its next label (a Switch) is evaluated after both. An
  operation that returns resets its locals to their initial values; the
  thread goes on with its next operation, or is done.
- A step that touches no shared or ghost location and makes no choice runs
  in the same event as the step before it (the explorer fuses them; so does
  this interpreter, so that events and schedules are the same).
- A retry step (Step.retry) is never taken: a thread waiting there ends its
  run. ``explore`` reports such ends apart (``retry_ends``); what they mean
  (cut off or deadlocked) is for the caller to judge, from the program's
  reference form (langgen.reference_form) where retries are real back edges.
- A run ends when no thread can move; it *finished* when every thread that
  is not a daemon is done. Invariants are checked in the initial state and
  after every event; a run goes on past a state that violates one.

``explore`` builds the whole state graph (with a cap on its size), so it also
handles programs whose loops are real: a *hang* is a bottom strongly
connected component of the graph with more than one state or a self-loop
(the threads in it can move for ever but never leave it), reported with the
deadlocks as *stuck* states. Schedules (maximal paths from the initial
state) are counted when the graph has no cycle.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from explorer.lang.expr import TRUE, Expr, Ghost, Local, Shared, Var, evaluate
from explorer.lang.model import DONE, Model, Property, Step, Switch
from explorer.search.result import DEADLOCK

LOCAL_LIMIT = 10_000  # local steps in one event: more is a local loop that never ends
DONE_PC = (-1, "")

Pc = tuple[int, str]  # (operation index, label), DONE_PC when the thread is done
N = TypeVar("N")
RState = tuple[tuple[int, ...], tuple[Pc, ...], tuple[tuple[int, ...], ...]]
"""(shared and ghost values, each thread's pc, each thread's current locals)."""


class RefError(Exception):
    """The program does something the reference cannot run (a local loop, a huge graph)."""


class _Env(dict[Var, int]):
    def __init__(self, interp: Interp, s: RState, t: int):
        super().__init__()
        self.i, self.s, self.t = interp, s, t

    def __missing__(self, v: Var) -> int:
        if isinstance(v, Local):
            return self.s[2][self.t][self.i.local_index[self.t][self.s[1][self.t][0]][v.name]]
        return self.s[0][self.i.index[v.name]]


@dataclass
class Interp:
    model: Model
    index: dict[str, int] = field(init=False)
    local_index: list[list[dict[str, int]]] = field(init=False)

    def __post_init__(self) -> None:
        m = self.model
        self.index = {n: k for k, n in enumerate(list(m.shared) + list(m.ghosts))}
        self.local_index = [[{n: k for k, n in enumerate(o.locals)} for o in t.ops]
                            for t in m.threads]
        self.inits = [[tuple(d.init for d in o.locals.values()) for o in t.ops]
                      for t in m.threads]
        self.steps = [[{s.label: s for s in o.steps} for o in t.ops] for t in m.threads]
        self.invariants = [p for p in m.properties if p.kind == "invariant"]
        self.finals = [p for p in m.properties if p.kind == "final"]

    def step_at(self, s: RState, t: int) -> Step | None:
        pc = s[1][t]
        return None if pc == DONE_PC else self.steps[t][pc[0]][pc[1]]

    def initial(self) -> RState:
        m = self.model
        mem = tuple(d.init for d in list(m.shared.values()) + list(m.ghosts.values()))
        pcs = tuple((0, t.ops[0].entry) for t in m.threads)
        locs = tuple(self.inits[t][0] for t in range(len(m.threads)))
        s: RState = (mem, pcs, locs)
        for t in range(len(m.threads)):
            s = self._settle(s, t)
        return s

    def _enabled(self, s: RState, t: int, st: Step) -> bool:
        return not st.retry and (st.guard == TRUE or evaluate(st.guard, _Env(self, s, t)) != 0)

    def _apply(self, s: RState, t: int, st: Step, v: int | None) -> RState:
        env = _Env(self, s, t)
        values = [(lhs, evaluate(rhs, env)) for lhs, rhs in st.update]
        mem = list(s[0])
        k = s[1][t][0]
        locs = list(s[2][t])
        where = self.local_index[t][k]
        for lhs, value in values:
            if isinstance(lhs, Local):
                locs[where[lhs.name]] = value
            else:
                mem[self.index[lhs.name]] = value
        if st.choose is not None:
            assert v is not None
            locs[where[st.choose.local]] = v
        mid: RState = (tuple(mem), s[1], _put(s[2], t, tuple(locs)))
        label = self._next(mid, t, st.next)
        pc: Pc
        if label != DONE:
            pc, lv = (k, label), tuple(locs)
        elif k + 1 < len(self.model.threads[t].ops):
            pc, lv = (k + 1, self.model.threads[t].ops[k + 1].entry), self.inits[t][k + 1]
        else:
            pc, lv = DONE_PC, self.inits[t][k]  # reset, as on every return
        return (tuple(mem), _put(s[1], t, pc), _put(s[2], t, lv))

    def _next(self, s: RState, t: int, nxt: str | Switch) -> str:
        if isinstance(nxt, str):
            return nxt
        env = _Env(self, s, t)
        for cond, label in nxt.cases:
            if evaluate(cond, env):
                return label
        return nxt.default

    def _settle(self, s: RState, t: int) -> RState:
        for _ in range(LOCAL_LIMIT):
            st = self.step_at(s, t)
            if st is None or not st.is_local or not self._enabled(s, t, st):
                return s
            s = self._apply(s, t, st, None)
        raise RefError(f"thread {self.model.threads[t].name}: a local loop never ends")

    def moves(self, s: RState) -> Iterator[tuple[int, int | None, RState]]:
        for t in range(len(self.model.threads)):
            st = self.step_at(s, t)
            if st is None or not self._enabled(s, t, st):
                continue
            for v in (st.choose.values if st.choose is not None else (None,)):
                yield t, v, self._settle(self._apply(s, t, st, v), t)

    def finished(self, s: RState) -> bool:
        return all(s[1][t] == DONE_PC for t, th in enumerate(self.model.threads)
                   if not th.daemon)

    def at_retry(self, s: RState) -> bool:
        return any((st := self.step_at(s, t)) is not None and st.retry
                   for t, th in enumerate(self.model.threads) if not th.daemon)

    def all_failing(self, s: RState, props: list[Property]) -> set[str]:
        env = _Env(self, s, 0)
        return {str(p.name) for p in props if not evaluate(p.expr, env)}

    def failing(self, s: RState, props: list[Property]) -> str | None:
        env = _Env(self, s, 0)
        for p in props:
            if not evaluate(p.expr, env):
                return str(p.name)
        return None


def sticky_witness(m: Model, max_states: int = 200_000) -> str:
    """A reachable step after which a sticky invariant that was false is true again
    ("" if there is none): the engine must refuse such a declaration."""
    it = Interp(m)
    sticky = [p for p in it.invariants if p.sticky]
    if not sticky:
        return ""
    s0 = it.initial()
    todo, seen = [s0], {s0}
    while todo:
        s = todo.pop()
        false_here = it.all_failing(s, sticky)
        for t, _, s2 in it.moves(s):
            again = false_here - it.all_failing(s2, sticky)
            if again:
                return f"{sorted(again)[0]} is true again after a step of {m.threads[t].name}"
            if s2 not in seen:
                if len(seen) > max_states:
                    raise RefError(f"more than {max_states} states")
                seen.add(s2)
                todo.append(s2)
    return ""


def _put(t: tuple[Any, ...], i: int, v: Any) -> tuple[Any, ...]:
    return t[:i] + (v,) + t[i + 1:]


@dataclass
class Reference:
    finals: set[tuple[int, ...]] = field(default_factory=set)  # memory of finished states
    stuck: set[tuple[int, ...]] = field(default_factory=set)  # memory of deadlocks and hangs
    retry_ends: set[tuple[int, ...]] = field(default_factory=set)  # waiting at a retry
    violations: set[str] = field(default_factory=set)  # invariants, finals, DEADLOCK
    hangs: int = 0  # bottom components with a cycle
    schedules: int | None = 0  # maximal paths (None when the graph has a cycle)
    states: int = 0


def explore(m: Model, max_states: int = 200_000, deadlock_at_retry: bool = False) -> Reference:
    """Every reachable state of ``m``; see the module docstring. With
    ``deadlock_at_retry`` a run ending at a retry step counts as stuck."""
    it = Interp(m)
    s0 = it.initial()
    out = Reference()
    succ: dict[RState, list[RState]] = {}
    order: list[RState] = []
    todo = [s0]
    seen = {s0}
    while todo:
        s = todo.pop()
        order.append(s)
        if len(seen) > max_states:
            raise RefError(f"more than {max_states} states")
        # Runs go on past a violation, as the census's do: every state is reached.
        out.violations |= it.all_failing(s, it.invariants)
        nxt = [s2 for _, _, s2 in it.moves(s)]
        succ[s] = nxt
        if not nxt:
            if it.finished(s):
                out.finals.add(s[0])
                bad = it.failing(s, it.finals)
                if bad is not None:
                    out.violations.add(bad)
            elif it.at_retry(s) and not deadlock_at_retry:
                out.retry_ends.add(s[0])
            else:
                out.stuck.add(s[0])
                out.violations.add(DEADLOCK)
        for s2 in nxt:
            if s2 not in seen:
                seen.add(s2)
                todo.append(s2)
    out.states = len(seen)
    cyclic = _hangs(succ, out)
    out.schedules = None if cyclic else _paths(succ, order)
    return out


def _hangs(succ: dict[RState, list[RState]], out: Reference) -> bool:
    """Records bottom components with a cycle as hangs; whether the graph has a cycle."""
    cyclic = False
    comp_of: dict[RState, int] = {}
    comps = sccs(succ)
    for i, comp in enumerate(comps):
        for s in comp:
            comp_of[s] = i
    for i, comp in enumerate(comps):
        loop = len(comp) > 1 or comp[0] in succ[comp[0]]
        cyclic |= loop
        if loop and all(comp_of[s2] == i for s in comp for s2 in succ[s]):
            out.hangs += 1
            out.stuck |= {s[0] for s in comp}
            out.violations.add(DEADLOCK)
    return cyclic


def _paths(succ: dict[RState, list[RState]], order: list[RState]) -> int:
    """Maximal paths from the first state of ``order`` (an acyclic graph), counting
    every move: two moves to the same state are two schedules."""
    root = order[0]
    count: dict[RState, int] = {}
    stack: list[tuple[RState, Iterator[RState]]] = [(root, iter(succ[root]))]
    while stack:  # post-order: a state is counted after all its successors
        s, children = stack[-1]
        x = next(children, None)
        if x is None:
            stack.pop()
            count[s] = sum(count[y] for y in succ[s]) if succ[s] else 1
        elif x not in count:
            stack.append((x, iter(succ[x])))
    return count[root]


def sccs(succ: dict[N, list[N]]) -> list[list[N]]:
    """Strongly connected components (Tarjan, iterative), sinks first."""
    index: dict[N, int] = {}
    low: dict[N, int] = {}
    stack: list[N] = []
    on: set[N] = set()
    out: list[list[N]] = []
    for root in succ:
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on.add(root)
        work = [(root, iter(succ[root]))]
        while work:
            v, children = work[-1]
            w = next(children, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(succ[w])))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    x = stack.pop()
                    on.discard(x)
                    comp.append(x)
                    if x == v:
                        break
                out.append(comp)
    return out


def memory(m: Model, state: tuple[int, ...] | list[int], slot: dict[Var, int]) -> tuple[int, ...]:
    """The shared and ghost values of an explorer state (Program.slot), in this
    interpreter's order, so that the two can be compared."""
    names: list[Expr] = [Shared(n) for n in m.shared] + [Ghost(n) for n in m.ghosts]
    return tuple(int(state[slot[v]]) for v in names if isinstance(v, Shared | Ghost))
