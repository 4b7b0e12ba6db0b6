"""The graph strategy (`--strategy graph`): one exploration per execution graph
(TruSt, POPL 2022), under SC, and under TSO and PSO as consistency predicates
(explorer/memory/weak.py). It agrees with the censuses on random programs
(tests/test_graph_strategy.py), but is slower than optimal DPOR in this
interpreter (it checks consistency on whole graphs), so it is not the default
(issue 13).

Kokologiannakis, Marmanis, Gladstein and Vafeiadis, "Truly stateless,
optimal dynamic partial order reduction": a graph grows one access at a
time; a load takes each store it may read (forward), a store takes each
place in coherence, and may be read by a load added before it that it does
not depend on (a backward revisit: what was added after that load and is
not in the store's po|rf prefix goes, if all of it was added *maximally*,
each load reading the last store of those before it, each store last);
memory is that of one graph, whatever the number of executions.

The events TruSt sees are the steps' accesses (*labels*: a step's loads,
then its stores, each with its own place in the order of addition), grown
under sequential consistency of the accesses taken one by one
(explorer/memory/sc.py, label_consistent), the model the algorithm is proved
for: reading the last store, or storing last, is always consistent there. A
step is atomic in the model language, and atomicity is not such a predicate
(a step that read an old value of one location may be unable to read the
newest of another), so it is checked on each whole graph, and a graph whose
steps cannot be placed atomically is dropped (Stats.dropped). This is the
approach of Bouajjani, Enea and Roman (PLDI 2023) for isolation levels that
are not causally extensible: explore under a weaker model that is, keep the
executions of the stronger one. Every graph of the atomic program is one
graph of the weaker one, so completeness and optimality carry over; the
price is the graphs dropped, many when steps touch several locations.

A step begun is finished before another is begun (any fixed choice of the
next access keeps TruSt's guarantees). A step that reads and stores one
location at once (SC, or acting on memory directly under TSO and PSO) has its
store placed right after its source in coherence, as TruSt places an RMW's
write: any other place breaks the step's atomicity.

Properties. When every invariant is sticky and no ghost steers a shared
store, a guard, a branch or a local (`ghosts_off`), ghosts are no labels:
a graph is made of the shared accesses only, and for each complete graph
the ghosts' final values are computed over every order of its
ghost-writing steps that its po|rf|co|fr allows (`ghost_finals`; any such
order extends to an interleaving of the whole graph, so these are exactly
the values its interleavings end with). Sticky invariants and final
properties are checked on each of those final states, and a counterexample
is an interleaving that keeps the ghost steps in the order that broke it.
Otherwise ghosts are locations like the shared ones, and so is
Program.visible, the pseudo-location every step that changes what a plain
invariant reads also writes: its coherence order is then the order of the
states the invariant can see, and the invariant is checked along it.

A step whose guard is false on what it read ends its thread's events there
(blocked). A graph in which no step can be added ends the exploration: if a
blocked step read a store that is not the last one to its location, a
thread waiting there would see the last one and move (another graph covers
that), so the graph is not an execution (dropped). Otherwise it finished,
was cut off at a retry (Program.cut_off), or deadlocked.

Symmetry (`--symmetry`): threads that run the same operations with the same
arguments are explored one graph per orbit (explorer/search/graph_symmetry.py:
a canonical order of their labels while they are in the same state, and each
label's po|rf prefix given what it shares with the thread before it).

Weak memory. Given the store-buffer program of explorer/compile/lowering.py,
the strategy checks the model it was lowered from under memory.weak's TSO or
PSO predicate instead (`weak_form`): the same graphs grow, each store has a
visibility point besides its step's issue, and a counterexample is turned
back into a schedule of the store-buffer program (issues and flushes in an
order of the graph), which replays as any other. Where the predicate does not
describe the machine (a CPU shared by threads, a migrated step, a plain
invariant: memory.weak.unsupported), the store-buffer program is explored
as it is, its flushes threads like the others.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from ..compile.program import LOCAL_CHAIN_LIMIT, Program, State, Transition
from ..compile.symmetry import NOTHING, symmetry
from ..lang.expr import Ghost
from ..lang.model import ModelError
from ..memory.graph import ghost_free
from ..memory.sc import INIT, Node, ancestors, consistent, edges, label_consistent
from ..memory.weak import Order, orders, points, unsupported
from ..memory.weak import consistent as weak_consistent
from .budget import Budget, Meter, OutOfBudget
from .common import CUT_OFF, DEADLOCKED, FINISHED, Found, conclude, end_of_run
from .dpor import Outcomes
from .graph_symmetry import Symmetric
from .oracle import canonical
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
    pre: tuple[int, ...] | None = None  # the state it runs from, its reads in place
    after: tuple[int, ...] | None = None
    blocked: bool = False
    retry: bool = False
    order: Order = Order()  # under weak memory: how its accesses are ordered
    tail: tuple[int, ...] = ()  # the local steps run after it (fences among them)
    # With symmetry, per present label: the symmetric predecessor's label its prefix
    # holds, as it stood when the label was added (Symmetric.augment), or None.
    aug: list[tuple[int, int, int] | None] = field(default_factory=list)

    @property
    def k(self) -> int:
        return len(self.stamp)

    @property
    def labels(self) -> int:
        return len(self.rl) + (0 if self.blocked else len(self.wl))

    def copy(self) -> Step:
        return Step(self.pc, self.choice, self.rl, self.wl, list(self.src), list(self.stamp),
                    self.before, self.born, self.wv, self.pre, self.after, self.blocked,
                    self.retry, self.order, self.tail, list(self.aug))


@dataclass(slots=True)
class Graph:
    th: list[list[Step]]
    co: list[list[Node]]  # per slot: the steps that store to it, in coherence order
    clock: int = 0

    def copy(self) -> Graph:
        """The threads' lists and coherence copied, the steps shared: a step is
        copied before it changes (`own`)."""
        return Graph([list(t) for t in self.th], [list(c) for c in self.co], self.clock)

    def deep(self) -> Graph:
        return Graph([[s.copy() for s in t] for t in self.th], [list(c) for c in self.co],
                     self.clock)

    def own(self, t: int, i: int) -> Step:
        st = self.th[t][i] = self.th[t][i].copy()
        return st


class GraphSearch:
    def __init__(self, program: Program, meter: Meter, stats: Stats, budget: Budget,
                 collect: bool = False, mm: str = "sc", lowered: Program | None = None):
        """`mm` other than sc: `program` is checked under memory.weak's predicate,
        and counterexamples are schedules of `lowered`, its store-buffer form."""
        self.p = program
        self.mm = mm
        self.lowered = lowered
        self.orders = orders(program, mm) if mm != "sc" else {}
        self.meter, self.stats, self.budget = meter, stats, budget
        self.s0 = tuple(program.initial_state())
        self.nslots = program.visible + 1
        self.collect = collect
        self.outcomes = Outcomes()
        self.tick = 0
        self.chain = [i for i, p in enumerate(program.invariants) if not p.sticky]
        self.classes: list[tuple] = []  # collect mode: each graph's Mazurkiewicz class
        self.keys: list[tuple] | None = None  # collect mode, if asked: each graph's key
        self.max_events: int | None = None
        self.ghost_slots = [program.slot[Ghost(name)] for name in program.model.ghosts]
        self.ghosts_off = ghosts_off(program)
        self.skip = set(self.ghost_slots) if self.ghosts_off else set()
        self.direct = {*self.ghost_slots, program.visible}  # never buffered
        sym = symmetry(program) if budget.symmetry else None
        self.symm = Symmetric(sym) if sym is not None and not sym.trivial else None
        if sym is not None:
            stats.symmetric = sum(len(g) for g in sym.groups)
        self.writes_ghost = {
            (code_t, pc): any(w in program.model.ghosts for w in cs.step.writes)
            for code_t, code in enumerate(program.threads) for pc, cs in enumerate(code.steps)
        }

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
            rl = tuple(x for x in cs.rlocs if x not in self.skip)
            wl = tuple(x for x in cs.wlocs if x not in self.skip)
            retry = cs.retry_guard is not None
            order = self.order_of(t, pc, steps[-1] if steps else None)
            for v in (cs.choices if cs.choices is not None and not retry else (None,)):
                g2 = g.copy()
                st = Step(pc, v, () if retry else rl, wl, [], [], state, g2.clock, retry=retry,
                          order=order)
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
        st.pre = tuple(s)
        if st.choice is None:
            cs.apply(s)
        else:
            cs.apply(s, st.choice)
        if self.orders:
            st.tail = self.fuse(s, t)
        else:
            self.p._settle(s, t)
        vis = self.p.visible  # a pseudo-location: its stores carry no value
        st.wv = {x: 0 if x == vis else s[x] for x in st.wl}
        st.after = tuple(s)

    def order_of(self, t: int, pc: int, prev: Step | None) -> Order:
        """The step's Order, with the fences run after the thread's previous step."""
        if not self.orders:
            return Order()
        out = self.orders[(t, pc)]
        for f in reversed(prev.tail if prev is not None else ()):
            out = self.orders[(t, f)].then(out)
        return out

    def fuse(self, s: list[int], t: int) -> tuple[int, ...]:
        """Program._settle, saying which local steps it ran."""
        code = self.p.threads[t]
        ran: list[int] = []
        pc = s[code.pc_slot]
        while pc >= 0:
            cs = code.steps[pc]
            if not cs.local or (cs.guard is not None and not cs.guard(s)):
                break
            cs.apply(s)
            ran.append(pc)
            if len(ran) > LOCAL_CHAIN_LIMIT:
                raise ModelError(f"thread {code.name}: step {cs.step.label!r} loops without "
                                 "touching shared memory")
            pc = s[code.pc_slot]
        return tuple(ran)

    def grows(self, g: Graph) -> bool:
        """The graph is consistent in the model it is grown under (accesses one by one)."""
        if not self.orders:
            return label_consistent(g.th, g.co)
        return weak_consistent(g.th, g.co, self.mm, self.direct, atomic=False)

    def atomic(self, g: Graph) -> bool:
        """The graph is consistent with every step atomic."""
        if not self.orders:
            return consistent(g.th, g.co)
        return weak_consistent(g.th, g.co, self.mm, self.direct, atomic=True)

    def order_graph(self, done: list[list[Step]], co: list[list[Node]]) -> dict:
        """Successors of each step (and, under weak memory, of each store's flush)."""
        if not self.orders:
            return edges(done, co)
        return points(done, co, self.mm, self.direct, atomic=True)

    def value(self, g: Graph, x: int, w: Node) -> int:
        if w == INIT:
            return self.s0[x]
        wv = g.th[w[0]][w[1]].wv
        assert wv is not None
        return wv[x]

    def add_label(self, g: Graph, t: int) -> None:
        self.stats.events += 1
        if self.max_events is not None and self.stats.events > self.max_events:
            raise OutOfBudget(f"more than {self.max_events} accesses added")
        i = len(g.th[t]) - 1
        st = g.th[t][i]
        j = st.k
        me = (t, i)
        if j < len(st.rl):
            x = st.rl[j]
            last = g.co[x][-1] if g.co[x] else INIT
            for w in [INIT, *g.co[x]]:
                g2 = g.copy()
                s2 = g2.own(t, i)
                s2.src.append(w)
                s2.stamp.append(g2.clock)
                g2.clock += 1
                self.augment(g2, t, i, j)
                # Reading the last store adds no edge out of the load: no new cycle.
                if (w == last or self.grows(g2)) and self.canonical(g2, t, i, j):
                    if s2.k == len(s2.rl):
                        self.settle(g2, t)
                    self.visit(g2)
            return
        x = st.wl[j - len(st.rl)]
        # With symmetry: what the store's prefix holds of the thread before it, taken
        # now, before a revisit deletes labels (GenMC's prefix view of the store).
        own = None if self.symm is None else self.symm.augment(g.th, t, i, j)
        # Forward: each place in coherence (a step that read x goes right after its source).
        for g2 in self.placements(g, me, x, own):
            self.visit(g2)
        # Backward: loads of x added before, outside this store's prefix.
        prefix = porf(g, t, i, j, own)
        for u, steps in enumerate(g.th):
            for r_i, r in enumerate(steps):
                for jr, y in enumerate(r.rl[:len(r.src)]):
                    if y == x and not prefix.has(u, r_i, jr):
                        self.revisit(g, me, x, prefix, (u, r_i), jr, own)

    def augment(self, g: Graph, t: int, i: int, j: int) -> None:
        """Record, for the label just added, what its prefix holds of the symmetric
        thread before it (Symmetric.augment), if symmetry is asked."""
        st = g.th[t][i]
        st.aug.append(None if self.symm is None else self.symm.augment(g.th, t, i, j))

    def canonical(self, g: Graph, t: int, i: int, j: int) -> bool:
        """The label keeps the order of symmetric threads (graph_symmetry), if asked."""
        return self.symm is None or self.symm.ok(g.th, g.co, t, i, j)

    def placements(self, g: Graph, me: Node, x: int, own: tuple[int, int, int] | None,
                   revisited: tuple[int, int, int] | None = None) -> list[Graph]:
        """`me`'s store to x at each place in coherence; right after its source when
        its step read x and acts on memory at once (an atomic read-modify-write of
        one location, as TruSt places RMWs; a store buffered under TSO or PSO is
        atomic against its own CPU only). Atomicity over several locations is
        checked on the whole graph (see the docstring)."""
        out = []
        end = len(g.co[x])
        places = range(end + 1)
        st = g.th[me[0]][me[1]]
        if self.rmw(st, x):
            w = st.src[st.rl.index(x)]
            at = 0 if w == INIT else g.co[x].index(w) + 1
            places = range(at, at + 1)
        for at in places:
            g2 = g.copy()
            g2.co[x].insert(at, me)
            g2.own(*me).stamp.append(g2.clock)
            g2.clock += 1
            g2.th[me[0]][me[1]].aug.append(own)
            # Stored last, and read by nothing yet: no edge out of the store, no cycle.
            if not (at == end and not self.read_by(g2, me, x) or self.grows(g2)):
                continue
            if self.symm is not None and not (
                    self.canonical(g2, me[0], me[1], len(st.rl) + st.wl.index(x))
                    and (revisited is None or self.canonical(g2, *revisited))):
                continue
            out.append(g2)
        return out

    def revisit(self, g: Graph, me: Node, x: int, prefix: Prefix, r: Node, jr: int,
                own: tuple[int, int, int] | None) -> None:
        """`me`'s store to x is read by label jr of step r instead."""
        rs = g.th[r[0]][r[1]].stamp[jr]
        if not self.maximal(g, prefix, rs):
            return
        g2 = g.deep()
        for u, steps in enumerate(g2.th):  # what was added after the load, outside the prefix
            keep: list[Step] = []
            for k, st in enumerate(steps):
                whole, n = prefix.kept(u, k, st.labels)
                if not whole and n == 0 and st.born > rs:
                    break
                n = min(st.k, max(n, sum(1 for s in st.stamp if s <= rs)))
                if n < st.k:
                    del st.src[min(n, len(st.rl)):]
                    del st.stamp[n:]
                    del st.aug[n:]
                    if n < len(st.rl):  # all its reads kept: its values stand
                        st.wv, st.pre, st.after, st.blocked = None, None, None, False
                keep.append(st)
                if n < st.labels and not whole:
                    break
            g2.th[u] = keep
        for y, chain in enumerate(g2.co):
            g2.co[y] = [w for w in chain if self.has_store(g2, w, y)]
        for steps in g2.th:  # a load kept read a store that goes: not a maximal extension
            for st in steps:
                for y, w in zip(st.rl, st.src, strict=False):
                    if w != INIT and w != me and not self.has_store(g2, w, y):
                        return
        rstep = g2.th[r[0]][r[1]]
        rstep.src[jr] = me
        rstep.wv, rstep.pre, rstep.after, rstep.blocked = None, None, None, False
        if self.symm is not None:  # what it shares with its predecessor, read anew
            rstep.aug[jr] = self.symm.augment(g2.th, r[0], r[1], jr)
        if rstep.k == len(rstep.rl):
            self.settle(g2, r[0])
        for g3 in self.placements(g2, me, x, own, (r[0], r[1], jr)):
            self.visit(g3)

    def rmw(self, st: Step, x: int) -> bool:
        """Whether the step reads and stores x at once (its store placed right
        after its source: an atomic read-modify-write of x)."""
        return x in st.wl and x in st.rl and (
            not self.orders or st.order.direct or x in self.direct)

    @staticmethod
    def read_by(g: Graph, w: Node, x: int) -> bool:
        """Whether some load of x reads w's store (a revisit sets one before placing)."""
        return any(y == x and src == w for steps in g.th for st in steps
                   for y, src in zip(st.rl, st.src, strict=False))

    @staticmethod
    def has_store(g: Graph, w: Node, y: int) -> bool:
        t, i = w
        if i >= len(g.th[t]):
            return False
        st = g.th[t][i]
        return not st.blocked and st.k > len(st.rl) + st.wl.index(y)

    def maximal(self, g: Graph, prefix: Prefix, rs: int) -> bool:
        """Every label added after the load (stamp rs) that the revisit deletes, and
        the load itself, was added maximally: in B, the labels added before it and
        the revisiting store's prefix, a load reads the last store and a store is last
        (a read-modify-write's store right after its source, its one place)."""
        def in_b(w: Node, y: int, before: int) -> bool:
            st = g.th[w[0]][w[1]]
            j = len(st.rl) + st.wl.index(y)
            return prefix.has(w[0], w[1], j) or st.stamp[j] < before

        def last_in_b(after: Node, y: int, before: int) -> bool:
            chain = g.co[y]
            k = 0 if after == INIT else chain.index(after) + 1
            return not any(in_b(w, y, before) for w in chain[k:])

        def next_in_b(src: Node, me: Node, y: int, before: int) -> bool:
            chain = g.co[y]
            a = 0 if src == INIT else chain.index(src) + 1
            return not any(in_b(w, y, before) for w in chain[a:chain.index(me)])

        for u, steps in enumerate(g.th):
            for k, st in enumerate(steps):
                whole, n = prefix.kept(u, k, st.labels)
                if whole:
                    continue
                options = self.p.threads[u].steps[st.pc].choices
                if n == 0 and st.born > rs and st.choice is not None and \
                        options is not None and st.choice != options[0]:
                    return False  # a step added again takes each value, the first here
                for j, s in enumerate(st.stamp):
                    if s < rs or j < n:
                        continue
                    if j < len(st.rl):
                        y, w = st.rl[j], st.src[j]
                        if w != INIT and not in_b(w, y, s):
                            return False
                        if not last_in_b(w, y, s):
                            return False
                    else:
                        y = st.wl[j - len(st.rl)]
                        if self.rmw(st, y):  # its one place: right after its source
                            if not next_in_b(st.src[st.rl.index(y)], (u, k), y, s):
                                return False
                        elif not last_in_b((u, k), y, s):
                            return False
        return True

    # -- a graph that cannot grow -------------------------------------------------

    def terminal(self, g: Graph) -> None:
        p, stats = self.p, self.stats
        if not self.atomic(g):  # a step is not atomic
            stats.dropped += 1
            return
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
        ends = self.ghost_finals(g) if self.ghosts_off else {(): []}
        states = []
        for gv, chain in ends.items():
            sg = list(s)
            for x, v in zip(self.ghost_slots if gv else (), gv, strict=True):
                sg[x] = v
            states.append((sg, chain))
            bad = [q for q in p.invariants if q.sticky and q in p.failing_invariants(sg)]
            if bad:
                self.found(g, Failure(bad[0].name, bad[0].description), None, chain)
        if waiting or duplicate:
            stats.dropped += waiting
            return
        if self.budget.max_executions is not None and stats.executions >= \
                self.budget.max_executions:
            raise OutOfBudget(f"max executions {self.budget.max_executions} reached")
        how = end_of_run(p, s)[0]
        stats.executions += 1
        stats.schedules += 1
        stats.cut_off += how == CUT_OFF
        stats.deadlocked += how == DEADLOCKED
        if self.collect:
            for sg, _ in states:
                self.outcomes.add(*end_of_run(p, sg), sg)
            self.classes.append(self.key(g) if self.ghosts_off or self.orders else
                                self.trace(g))
            if self.keys is not None:
                self.keys.append(self.key(g, every=True))
            return
        for sg, chain in states:
            failure = end_of_run(p, sg)[1]
            if failure is not None:
                self.found(g, failure, None, chain)

    def ghost_finals(self, g: Graph) -> dict[tuple[int, ...], list[Node]]:
        """Every value the ghosts can end with, over the orders of the graph's
        ghost-writing steps that its po|rf|co|fr allows, each with one such order.
        (Any order of those steps that respects the graph extends to an
        interleaving of all its steps, so these are exactly the interleavings'.)"""
        done = [[st for st in steps if not st.blocked] for steps in g.th]
        gev = [(t, i) for t, steps in enumerate(done) for i, st in enumerate(steps)
               if self.writes_ghost[(t, st.pc)]]
        g0 = tuple(self.s0[x] for x in self.ghost_slots)
        if not gev:
            return {g0: []}
        succ = self.order_graph(done, g.co)
        idx = {n: k for k, n in enumerate(gev)}
        need = [0] * len(gev)  # per ghost-writing step: those that go before it
        for k, n in enumerate(gev):
            seen, todo = {n}, [n]
            while todo:
                for v in succ[todo.pop()]:
                    if v not in seen:
                        seen.add(v)
                        todo.append(v)
                        if v in idx:
                            need[idx[v]] |= 1 << k
        full = (1 << len(gev)) - 1
        out: dict[tuple[int, ...], list[Node]] = {}
        visited: set[tuple[int, tuple[int, ...]]] = set()
        stack: list[tuple[int, tuple[int, ...], tuple[Node, ...]]] = [(0, g0, ())]
        while stack:
            mask, gv, path = stack.pop()
            if (mask, gv) in visited:
                continue
            visited.add((mask, gv))
            if mask == full:
                out.setdefault(gv, list(path))
                continue
            for k, n in enumerate(gev):
                if not mask >> k & 1 and not need[k] & ~mask:
                    stack.append((mask | 1 << k, self.ghost_step(g, n, gv), path + (n,)))
        return out

    def ghost_step(self, g: Graph, n: Node, gv: tuple[int, ...]) -> tuple[int, ...]:
        """The ghosts after step n runs on ghosts gv (and the local steps after it)."""
        st = g.th[n[0]][n[1]]
        assert st.pre is not None
        s = list(st.pre)
        for x, v in zip(self.ghost_slots, gv, strict=True):
            s[x] = v
        cs = self.p.threads[n[0]].steps[st.pc]
        if st.choice is None:
            cs.apply(s)
        else:
            cs.apply(s, st.choice)
        self.p._settle(s, n[0])
        return tuple(s[x] for x in self.ghost_slots)

    def key(self, g: Graph, every: bool = False) -> tuple:
        """The graph as explorer.search.graph_census keys its graphs, less what a blocked
        step read (the last stores, in both): per thread (pc, reads, choice, blocked),
        and coherence per shared location (`every`: per location, ghosts and
        Program.visible too)."""
        th = tuple(
            tuple((st.pc, () if st.blocked else tuple(sorted(
                (x, w, self.value(g, x, w)) for x, w in zip(st.rl, st.src, strict=True))),
                None if st.blocked else st.choice, st.blocked) for st in steps)
            for steps in g.th)
        return th, tuple(tuple(c) for c in g.co[:None if every else len(self.p.model.shared)])

    def trace(self, g: Graph) -> tuple:
        """The canonical interleaving of the graph's executed steps (oracle.canonical),
        by which a test compares the graphs explored with the interleaving census."""
        done = [[st for st in steps if not st.blocked] for steps in g.th]
        lin = linearise(done, g.co, [])
        assert lin is not None
        return canonical([(t, done[t][i].choice, self.p.threads[t].steps[done[t][i].pc].rmask,
                           self.p.threads[t].steps[done[t][i].pc].wmask) for t, i in lin])

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

    def found(self, g: Graph, failure: Failure, at: Node | None,
              chain: list[Node] | None = None) -> None:
        if self.collect:
            self.outcomes.violations.add(failure.name)
            return
        raise Found(failure, self.schedule(g, failure, at, chain or []))

    def schedule(self, g: Graph, failure: Failure, at: Node | None,
                 chain: list[Node]) -> list[Transition]:
        """An interleaving of the graph (up to `at`) that replays to the violation,
        its ghost-writing steps in the order `chain` (see ghost_finals)."""
        if self.orders:
            return self.weak_schedule(g, failure, chain)
        done = [[st for st in steps if not st.blocked] for steps in g.th]
        co = [list(c) for c in g.co]
        lin = linearise(done, co, chain)
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
        self.confirm(self.p, s, failure, at is not None)
        return sched

    @staticmethod
    def confirm(p: Program, s: State, failure: Failure, early: bool) -> None:
        fails = {q.name for q in p.failing_invariants(s)}
        if early or failure.name in fails:
            ok = failure.name in fails
        else:
            ok = not p.transitions(s) and end_of_run(p, s)[1] is not None
        if not ok:
            raise ModelError(f"internal error: a graph's interleaving does not violate "
                             f"{failure.name}")

    def weak_schedule(self, g: Graph, failure: Failure, chain: list[Node]) -> list[Transition]:
        """A schedule of the store-buffer program (explorer/compile/lowering.py) that
        replays the graph: each step where its issue comes in an order of the
        graph's points, each flush by its buffer's flusher thread (flushes as early
        as the graph allows), the fences the store-buffer program runs as steps of
        their own just before the step after them."""
        lp = self.lowered
        assert lp is not None
        done = [[st for st in steps if not st.blocked] for steps in g.th]
        succ = points(done, g.co, self.mm, self.direct, atomic=True)
        for a, b in zip(chain, chain[1:], strict=False):
            succ[a].append(b)
        names = list(self.p.model.shared)
        flusher = {t.name: k for k, t in enumerate(lp.model.threads)}
        homes = [t.home for t in self.p.model.threads]
        s: State = lp.initial_state()
        sched: list[Transition] = []

        def run(t: int, v: int | None) -> None:
            if (t, v) not in lp.transitions(s):
                raise ModelError("internal error: a graph's schedule does not replay on the "
                                 "store-buffer program")
            lp.execute(s, t, v)
            sched.append((t, v))

        def fences(t: int, until: int | None) -> None:
            code = lp.threads[t]
            while s[code.pc_slot] >= 0 and s[code.pc_slot] != until:
                if not self.p.threads[t].steps[s[code.pc_slot]].step.fence:
                    raise ModelError("internal error: the store-buffer program's steps are not "
                                     "the model's")
                run(t, None)

        for n in topological(succ):
            if n[0] == "v":
                _, t, _i, x = n
                run(flusher[f"flush.{homes[t]}.{names[x]}"], None)
            elif n[0] != "e":
                t, i = n
                st = done[t][i]
                fences(t, st.pc)
                run(t, st.choice)
        for t, steps in enumerate(g.th):
            if steps and steps[-1].blocked:
                fences(t, steps[-1].pc)
            else:
                fences(t, None)
        self.confirm(lp, s, failure, False)
        return sched


def linearise(done: list[list[Step]], co: list[list[Node]], chain: list[Node]
              ) -> list[Node] | None:
    """An interleaving of the steps consistent with the graph and with `chain`
    (lowest thread first among the steps that may go next), or None."""
    succ = edges(done, co)
    for a, b in zip(chain, chain[1:], strict=False):
        succ[a].append(b)
    indeg = dict.fromkeys(succ, 0)
    for outs in succ.values():
        for b in outs:
            indeg[b] += 1
    ready = sorted(n for n, d in indeg.items() if d == 0)
    out: list[Node] = []
    while ready:
        n = ready.pop(0)
        out.append(n)
        for b in succ[n]:
            indeg[b] -= 1
            if indeg[b] == 0:
                ready.append(b)
                ready.sort()
    return out if len(out) == len(succ) else None


def topological(succ: dict) -> list:
    """The points in an order consistent with `succ`: a flush as soon as it may go,
    else the lowest thread's next issue."""
    def rank(n: tuple) -> tuple:
        return (0, n[1], n[2]) if n[0] == "v" else (1, n[1], n[2]) if n[0] == "e" else \
            (2, n[0], n[1])
    indeg = dict.fromkeys(succ, 0)
    for outs in succ.values():
        for b in outs:
            indeg[b] += 1
    ready = sorted((n for n, d in indeg.items() if d == 0), key=rank)
    out = []
    while ready:
        n = ready.pop(0)
        out.append(n)
        for b in succ[n]:
            indeg[b] -= 1
            if indeg[b] == 0:
                ready.append(b)
        ready.sort(key=rank)
    if len(out) != len(succ):
        raise ModelError("internal error: a graph the strategy kept has no order")
    return out


def ghosts_off(program: Program) -> bool:
    """Whether the ghosts stay out of the graphs: every invariant is sticky (checked
    on final states) and no ghost steers anything but ghosts (ghost_free). Then
    ghosts are computed per graph (GraphSearch.ghost_finals) and a step's ghost
    accesses are no labels; else ghosts are locations like the shared ones."""
    if not program.model.ghosts or any(not q.sticky for q in program.invariants):
        return False
    try:
        ghost_free(program)
    except ModelError:
        return False
    return True


@dataclass(slots=True)
class Prefix:
    """A po|rf-closed set of labels: per thread, the last (step, label) in it."""

    last: list[tuple[int, int] | None]

    def has(self, t: int, i: int, j: int) -> bool:
        end = self.last[t]
        return end is not None and (i, j) <= end

    def kept(self, t: int, i: int, labels: int) -> tuple[bool, int]:
        """Whether step i of thread t is wholly in the prefix, and how many of its
        labels are."""
        end = self.last[t]
        if end is None or i > end[0]:
            return False, 0
        if i < end[0]:
            return True, labels
        n = end[1] + 1
        return n >= labels, n


def porf(g: Graph, t: int, i: int, j: int, own: tuple[int, int, int] | None = None
         ) -> Prefix:
    """The labels label j of step i of thread t depends on: po and rf before it,
    itself included (its stores' later labels are not); with symmetry, also the
    labels of the symmetric threads before them that each label's prefix was given
    when it was added (Step.aug; as GenMC's prefix views, a position in that
    thread: what is there now up to it)."""
    pre = Prefix([None] * len(g.th))
    todo = [(t, i, j)]
    if own is not None:  # the store's own (it is not in g yet)
        more = _present(g, *own)
        if more[1] >= 0:
            todo.append(more)
    while todo:
        u, a, b = todo.pop()
        if pre.has(u, a, b):
            continue
        pre.last[u] = (a, b)
        steps = g.th[u]
        for k in range(a + 1):
            st = steps[k]
            upto = st.k if k < a else min(b + 1, st.k)
            for y, w in zip(st.rl[:upto], st.src[:upto], strict=False):
                if w != INIT:
                    ws = g.th[w[0]][w[1]]
                    jw = len(ws.rl) + ws.wl.index(y)
                    if not pre.has(w[0], w[1], jw):
                        todo.append((w[0], w[1], jw))
            for aug in st.aug[:upto]:
                if aug is not None:
                    more = _present(g, *aug)
                    if more[1] >= 0 and not pre.has(*more):
                        todo.append(more)
    return pre


def _present(g: Graph, u: int, a: int, b: int) -> tuple[int, int, int]:
    """The last label of thread u present at or before (step a, label b); step -1
    when none is."""
    steps = g.th[u]
    if a >= len(steps):
        a, b = len(steps) - 1, 1 << 30
    while a >= 0:
        k = steps[a].k
        if k > 0:
            return u, a, min(b, k - 1)
        a, b = a - 1, 1 << 30
    return u, -1, -1


def weak_form(program: Program) -> tuple[Program, str] | None:
    """For the store-buffer form of a model (explorer/compile/lowering.py): the
    model itself and its memory model, when memory.weak's predicate describes its
    machine (weak.unsupported); else None, and the store-buffer program is
    explored as it is."""
    if program.model.lowered is None:
        return None
    model, mm = program.model.lowered
    base = Program(model)
    return None if unsupported(base) else (base, mm)


def explore_graph(program: Program, budget: Budget, progress: bool | None = None) -> Result:
    def body(meter: Meter, stats: Stats) -> None:
        s0 = program.initial_state()
        bad = program.failing_invariant(s0)
        if bad is not None:
            raise Found(Failure(bad.name, bad.description, "in the initial state"), [])
        weak_p = weak_form(program)
        if weak_p is None:
            if program.model.lowered is not None and progress is not False:
                why = unsupported(Program(program.model.lowered[0]))
                print(f"explorer: note: graph explores the store-buffer program ({why}); "
                      "expect it to be slow", file=sys.stderr)
            search = GraphSearch(program, meter, stats, budget)
        else:
            search = GraphSearch(weak_p[0], meter, stats, budget, mm=weak_p[1], lowered=program)
        if budget.symmetry and search.symm is None and progress is not False:
            print(NOTHING, file=sys.stderr)
        search.run()

    return conclude("graph", program, budget, progress, body)


def collect_graph(program: Program, budget: Budget | None = None,
                  max_events: int | None = None, mm: str = "sc",
                  keys: list[tuple] | None = None) -> tuple[Outcomes, Stats, list[tuple]]:
    """Every outcome the graph strategy reaches (no early stop), with its stats and
    the Mazurkiewicz class of each graph it counted (its key, as the graph census
    writes it, when ghosts are off the graphs or `mm` is weak: the program is then
    the model itself, checked under memory.weak); OutOfBudget past `max_events`
    accesses added (a bound on the work that does not depend on the machine).
    `keys`, if given, receives each graph's key over every location (GraphSearch.key)."""
    b = budget or Budget()
    meter = Meter(b, False, "graph")
    stats = Stats()
    if mm != "sc" and unsupported(program):
        raise ModelError(f"not under a predicate: {unsupported(program)}")
    search = GraphSearch(program, meter, stats, b, collect=True, mm=mm)
    search.max_events = max_events
    search.keys = keys
    search.outcomes.violations.update(q.name for q in program.failing_invariants(
        program.initial_state()))
    search.run()
    meter.close()
    return search.outcomes, stats, search.classes


__all__ = ["explore_graph", "collect_graph", "FINISHED"]
