"""The graph strategy (work in progress, not offered yet: on 4 of 147 random programs
it explores fewer graphs than there are classes; see issue 13): one exploration
per execution graph (TruSt, POPL 2022).

Kokologiannakis, Marmanis, Gladstein and Vafeiadis, "Truly stateless,
optimal dynamic partial order reduction": a graph grows one access at a
time; a load takes each store it may read (forward), a store takes each
place in coherence, and may be read by a load added before it that it does
not depend on (a backward revisit: what was added after that load and is
not in the store's po|rf prefix goes, if all of it was added *maximally*,
each load reading the last store of those before it, each store last);
memory is that of one graph, whatever the number of executions.

Events are the program's steps. A step's accesses are *labels* in program
order (its loads, then its stores), each with its own place in the order of
addition, so that a step that reads two locations written by two threads
independently is reached (as TruSt reaches two loads); a step stays atomic
because consistency (explorer/memory/sc.py) takes it as one node, and a
step begun is finished before any other is begun. Ghost variables are
locations like the shared ones (sequentially consistent, as the steps that
update them are atomic), and so is Program.visible, the pseudo-location
every step that changes what an invariant reads also writes: its coherence
order is then the order of the states the invariant can see, and the
invariant is checked along it. Sticky invariants and final properties are
checked on each graph's final memory.

A step whose guard is false on what it read ends its thread's events there
(blocked). A graph in which no step can be added ends the exploration: if a
blocked step read a store that is not the last one to its location, a
thread waiting there would see the last one and move (another graph covers
that), so the graph is not an execution (counted as blocked). Otherwise it
finished, was cut off at a retry (Program.cut_off), or deadlocked. A weak
memory model reaches this strategy as the store-buffer program of
explorer/compile/lowering.py.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from ..compile.program import Program, State, Transition
from ..lang.model import ModelError
from ..memory.sc import INIT, Node, ancestors, consistent, order
from .budget import Budget, Meter, OutOfBudget
from .common import CUT_OFF, DEADLOCKED, FINISHED, Found, conclude, end_of_run
from .result import Failure, Result, Stats


@dataclass(slots=True)
class Step:
    """One step in a graph; its first `k` labels are present."""

    pc: int
    choice: int | None
    rl: tuple[int, ...]  # slots read, in label order
    wl: tuple[int, ...]  # slots written, after the reads
    src: list[Node]  # per present read label: the step whose store it reads
    stamp: list[int]  # per present label: its place in the order of addition
    before: tuple[int, ...]  # the thread's state before the step
    born: int  # its place in the order of addition (before its labels')
    wv: dict[int, int] | None = None  # stores' values, once every read is there
    after: tuple[int, ...] | None = None
    blocked: bool = False
    retry: bool = False

    @property
    def k(self) -> int:
        return len(self.stamp)

    @property
    def labels(self) -> int:
        return len(self.rl) + (0 if self.blocked else len(self.wl))

    def copy(self) -> Step:
        return Step(self.pc, self.choice, self.rl, self.wl, list(self.src), list(self.stamp),
                    self.before, self.born, self.wv, self.after, self.blocked, self.retry)


@dataclass(slots=True)
class Graph:
    th: list[list[Step]]
    co: list[list[Node]]  # per slot: the steps that store to it, in coherence order
    clock: int = 0

    def copy(self) -> Graph:
        return Graph([[s.copy() for s in t] for t in self.th], [list(c) for c in self.co],
                     self.clock)


class GraphSearch:
    def __init__(self, program: Program, meter: Meter, stats: Stats, budget: Budget,
                 collect: bool = False):
        self.p = program
        self.meter, self.stats, self.budget = meter, stats, budget
        self.s0 = tuple(program.initial_state())
        self.nslots = program.visible + 1
        self.collect = collect
        from .dpor import Outcomes  # collect mode's record, as the other strategies'
        self.outcomes = Outcomes()
        self.tick = 0
        self.chain = [i for i, p in enumerate(program.invariants) if not p.sticky]

    # -- growing a graph --------------------------------------------------------

    def run(self) -> None:
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, 100_000))
        try:
            self.visit(Graph([[] for _ in self.p.threads], [[] for _ in range(self.nslots)]))
        finally:
            sys.setrecursionlimit(limit)

    def visit(self, g: Graph) -> None:
        self.tick += 1
        if self.tick >= Meter.CHECK_EVERY:
            self.tick = 0
            stats = self.stats
            self.meter.poll(stats.events, stats.executions, stats.states)
        for t, steps in enumerate(g.th):  # a step begun is finished first
            if steps and steps[-1].k < steps[-1].labels:
                self.add_label(g, t)
                return
        for t, steps in enumerate(g.th):
            if steps and (steps[-1].blocked or steps[-1].after is None):
                continue
            state = steps[-1].after if steps else self.s0
            assert state is not None
            code = self.p.threads[t]
            pc = state[code.pc_slot]
            if pc < 0:
                continue
            if len(steps) >= self.budget.max_steps:
                raise ModelError(
                    f"thread {code.name} took more than {self.budget.max_steps} steps in one "
                    "execution: a step that never finishes (raise --max-steps if intended)")
            cs = code.steps[pc]
            rl = tuple(x for x in cs.rlocs)
            wl = tuple(x for x in cs.wlocs)
            retry = cs.retry_guard is not None
            for v in (cs.choices if cs.choices is not None and not retry else (None,)):
                g2 = g.copy()
                st = Step(pc, v, () if retry else rl, wl, [], [], state, g2.clock, retry=retry)
                g2.clock += 1
                g2.th[t].append(st)
                if retry or not rl:
                    self.settle(g2, t)
                if st.k < st.labels:
                    self.add_label(g2, t)
                else:
                    self.visit(g2)
            return
        self.terminal(g)

    def settle(self, g: Graph, t: int) -> None:
        """Every read of t's last step is there: its guard, its stores, its after-state."""
        st = g.th[t][-1]
        if st.retry:
            st.blocked = True
            return
        s = list(st.before)
        for x, w in zip(st.rl, st.src, strict=True):
            s[x] = self.value(g, x, w)
        code = self.p.threads[t]
        cs = code.steps[st.pc]
        if cs.guard is not None and not cs.guard(s):
            st.blocked = True
            return
        if st.choice is None:
            cs.apply(s)
        else:
            cs.apply(s, st.choice)
        self.p._settle(s, t)
        vis = self.p.visible  # a pseudo-location: its stores carry no value
        st.wv = {x: 0 if x == vis else s[x] for x in st.wl}
        st.after = tuple(s)

    def value(self, g: Graph, x: int, w: Node) -> int:
        if w == INIT:
            return self.s0[x]
        wv = g.th[w[0]][w[1]].wv
        assert wv is not None
        return wv[x]

    def add_label(self, g: Graph, t: int) -> None:
        self.stats.events += 1
        i = len(g.th[t]) - 1
        st = g.th[t][i]
        j = st.k
        me = (t, i)
        if j < len(st.rl):
            x = st.rl[j]
            for w in [INIT, *g.co[x]]:
                g2 = g.copy()
                s2 = g2.th[t][i]
                s2.src.append(w)
                s2.stamp.append(g2.clock)
                g2.clock += 1
                if consistent(g2.th, g2.co):
                    if s2.k == len(s2.rl):
                        self.settle(g2, t)
                    self.visit(g2)
            return
        x = st.wl[j - len(st.rl)]
        # Forward: each place in coherence (a step that read x goes right after its source).
        for g2 in self.placements(g, me, x):
            self.visit(g2)
        # Backward: loads of x added before, outside this step's prefix.
        prefix = porf(g, me)
        for u, steps in enumerate(g.th):
            for r_i, r in enumerate(steps):
                if (u, r_i) in prefix:
                    continue
                for jr, y in enumerate(r.rl[:len(r.src)]):
                    if y == x:
                        self.revisit(g, me, x, prefix, (u, r_i), jr)

    def placements(self, g: Graph, me: Node, x: int) -> list[Graph]:
        st = g.th[me[0]][me[1]]
        chain = g.co[x]
        if x in st.rl:
            w = st.src[st.rl.index(x)]
            spots = [0 if w == INIT else chain.index(w) + 1]
        else:
            spots = list(range(len(chain) + 1))
        out = []
        for at in spots:
            g2 = g.copy()
            g2.co[x].insert(at, me)
            g2.th[me[0]][me[1]].stamp.append(g2.clock)
            g2.clock += 1
            if consistent(g2.th, g2.co):
                out.append(g2)
        return out

    def revisit(self, g: Graph, me: Node, x: int, prefix: set[Node], r: Node, jr: int) -> None:
        """`me`'s store to x is read by label jr of step r instead."""
        rs = g.th[r[0]][r[1]].stamp[jr]
        if not self.maximal(g, prefix, rs, r, jr):
            return
        g2 = g.copy()
        for u, steps in enumerate(g2.th):  # what was added after the load, outside the prefix
            keep: list[Step] = []
            for k, st in enumerate(steps):
                if (u, k) in prefix:
                    keep.append(st)
                    continue
                if st.born > rs:
                    break
                n = sum(1 for s in st.stamp if s <= rs)
                if n < st.k:
                    nr = min(n, len(st.rl))
                    del st.src[nr:]
                    del st.stamp[n:]
                    if n <= len(st.rl):
                        st.wv, st.after, st.blocked = None, None, False
                keep.append(st)
                if n < st.labels:
                    break
            g2.th[u] = keep
        for y, chain in enumerate(g2.co):
            g2.co[y] = [w for w in chain if self.has_store(g2, w, y)]
        for steps in g2.th:  # a load kept may have read a store that goes: not a graph
            for st in steps:
                for y, w in zip(st.rl, st.src, strict=False):
                    if w != INIT and w != me and not self.has_store(g2, w, y):
                        return
        rstep = g2.th[r[0]][r[1]]
        rstep.src[jr] = me
        rstep.wv, rstep.after, rstep.blocked = None, None, False
        if rstep.k == len(rstep.rl):
            self.settle(g2, r[0])
        for g3 in self.placements(g2, me, x):
            self.visit(g3)

    @staticmethod
    def has_store(g: Graph, w: Node, y: int) -> bool:
        t, i = w
        if i >= len(g.th[t]):
            return False
        st = g.th[t][i]
        return not st.blocked and st.k > len(st.rl) + st.wl.index(y)

    def maximal(self, g: Graph, prefix: set[Node], rs: int, r: Node, jr: int) -> bool:
        """Every label added after the load (stamp rs) that the revisit deletes, and
        the load itself, was added maximally: in B, the labels added before it and
        the revisiting store's prefix, a load reads the last store and a store is last."""
        def stamp_of_store(w: Node, y: int) -> int:
            st = g.th[w[0]][w[1]]
            return st.stamp[len(st.rl) + st.wl.index(y)]

        def in_b(w: Node, y: int, before: int) -> bool:
            return w in prefix or stamp_of_store(w, y) < before

        def last_in_b(after: Node, y: int, before: int) -> bool:
            chain = g.co[y]
            k = 0 if after == INIT else chain.index(after) + 1
            return not any(in_b(w, y, before) for w in chain[k:])

        for u, steps in enumerate(g.th):
            for k, st in enumerate(steps):
                if (u, k) in prefix:
                    continue
                options = self.p.threads[u].steps[st.pc].choices
                if st.born > rs and st.choice is not None and options is not None and \
                        st.choice != options[0]:
                    return False  # a step added again takes each value, the first here
                for j, s in enumerate(st.stamp):
                    if s < rs:
                        continue
                    if j < len(st.rl):
                        y, w = st.rl[j], st.src[j]
                        if w != INIT and not in_b(w, y, s):
                            return False
                        if not last_in_b(w, y, s):
                            return False
                    else:
                        y = st.wl[j - len(st.rl)]
                        if not last_in_b((u, k), y, s):
                            return False
        return True

    # -- a graph that cannot grow -------------------------------------------------

    def terminal(self, g: Graph) -> None:
        p, stats = self.p, self.stats
        mem = list(self.s0)
        for x, chain in enumerate(g.co):
            if chain and x != p.visible:
                mem[x] = self.value(g, x, chain[-1])
        self.check_chain(g)
        s = list(mem)
        waiting = False
        duplicate = False
        for t, steps in enumerate(g.th):
            code = p.threads[t]
            last = steps[-1] if steps else None
            view = self.s0 if last is None else (last.before if last.blocked else last.after)
            assert view is not None
            s[code.pc_slot] = view[code.pc_slot]
            for slot in code.local_slots.values():
                s[slot] = view[slot]
            if last is not None and last.blocked:
                for x, w in zip(last.rl, last.src, strict=True):
                    if w != (g.co[x][-1] if g.co[x] else INIT):
                        waiting = True
                cs = p.threads[t].steps[last.pc]
                if cs.choices is not None and last.choice != cs.choices[0]:
                    duplicate = True
        bad = [q for q in p.invariants if q.sticky and q in p.failing_invariants(s)]
        if bad:
            self.found(g, Failure(bad[0].name, bad[0].description), None)
        if waiting or duplicate:
            stats.sleep_blocked += waiting
            return
        how, failure = end_of_run(p, s)
        stats.executions += 1
        stats.schedules += 1
        stats.cut_off += how == CUT_OFF
        stats.deadlocked += how == DEADLOCKED
        if self.collect:
            self.outcomes.add(how, failure, s)
            return
        if failure is not None:
            self.found(g, failure, None)
        if self.budget.max_executions is not None and stats.executions >= \
                self.budget.max_executions:
            raise OutOfBudget(f"max executions {self.budget.max_executions} reached")
        del how

    def check_chain(self, g: Graph) -> None:
        """Invariants along the coherence order of Program.visible."""
        chain = g.co[self.p.visible]
        if not chain or not self.chain:
            return
        s = list(self.s0)
        for w in chain:
            wv = g.th[w[0]][w[1]].wv
            assert wv is not None
            for x, v in wv.items():
                if x != self.p.visible:
                    s[x] = v
            for q in self.p.failing_invariants(s):
                if not q.sticky:
                    self.found(g, Failure(q.name, q.description), w)

    def found(self, g: Graph, failure: Failure, at: Node | None) -> None:
        if self.collect:
            self.outcomes.violations.add(failure.name)
            return
        raise Found(failure, self.schedule(g, failure, at))

    def schedule(self, g: Graph, failure: Failure, at: Node | None) -> list[Transition]:
        """An interleaving of the graph (up to `at`) that replays to the violation."""
        done = [[st for st in steps if not st.blocked] for steps in g.th]
        co = [list(c) for c in g.co]
        lin = order(done, co)
        if lin is None:
            raise ModelError("internal error: a graph the strategy kept has no interleaving")
        if at is not None:
            need = ancestors(done, co, [at])
            lin = [n for n in lin if n in need]
        sched: list[Transition] = [(t, done[t][i].choice) for t, i in lin]
        s: State = self.p.initial_state()
        for t, v in sched:
            if (t, v) not in self.p.transitions(s):
                raise ModelError("internal error: a graph's interleaving does not replay")
            self.p.execute(s, t, v)
        fails = {q.name for q in self.p.failing_invariants(s)}
        if at is not None or failure.name in fails:
            ok = failure.name in fails
        else:
            ok = not self.p.transitions(s) and end_of_run(self.p, s)[1] is not None
        if not ok:
            raise ModelError(f"internal error: a graph's interleaving does not violate "
                             f"{failure.name}")
        return sched


def porf(g: Graph, me: Node) -> set[Node]:
    """The steps `me` depends on: po and rf before it, itself included."""
    seen: set[Node] = set()
    todo = [me]
    while todo:
        t, i = todo.pop()
        if (t, i) in seen:
            continue
        for k in range(i + 1):
            n = (t, k)
            if n not in seen:
                seen.add(n)
                for w in g.th[t][k].src:
                    if w != INIT and w not in seen:
                        todo.append(w)
    return seen


def explore_graph(program: Program, budget: Budget, progress: bool | None = None) -> Result:
    def body(meter: Meter, stats: Stats) -> None:
        s0 = program.initial_state()
        bad = program.failing_invariant(s0)
        if bad is not None:
            raise Found(Failure(bad.name, bad.description, "in the initial state"), [])
        GraphSearch(program, meter, stats, budget).run()

    return conclude("graph", program, budget, progress, body)


def collect_graph(program: Program, budget: Budget | None = None):
    """Every outcome the graph strategy reaches (no early stop), with its stats."""
    b = budget or Budget()
    meter = Meter(b, False, "graph")
    stats = Stats()
    search = GraphSearch(program, meter, stats, b, collect=True)
    search.outcomes.violations.update(q.name for q in program.failing_invariants(
        program.initial_state()))
    search.run()
    meter.close()
    return search.outcomes, stats


__all__ = ["explore_graph", "collect_graph", "FINISHED"]
