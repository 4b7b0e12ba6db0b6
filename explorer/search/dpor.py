"""Dynamic partial-order reduction over a compiled program.

Two strategies share this machinery (Abdulla, Aronis, Jonsson, Sagonas,
"Optimal dynamic partial order reduction", POPL 2014):

- ``dpor``: source sets and sleep sets (their Algorithm 1);
- ``optimal``: wakeup trees (their Algorithm 2): every Mazurkiewicz trace is
  explored once and no exploration ends blocked by its sleep set. The price
  is memory: the wakeup trees hold every pending branch, and on protocols
  with many races they grow with the number of executions still to explore,
  where ``dpor`` needs memory proportional to the depth of one execution.

Dependency comes from the steps' declared footprints (explorer.compile.program): two
events of different threads conflict when one writes a location the other
reads or writes. Happens-before is kept incrementally in vector clocks.

Races are collected when each event runs and reversed when an execution
ends: `dpor` reverses the races of the new events, `optimal` every race of
the execution, as Algorithm 2 says (a race in a prefix shared with earlier
executions needs another wakeup sequence when the execution goes on
differently), except those whose first event happens-before every new event
(their sequence is the one already reversed, less events that cannot
matter). A reversal is attempted only when it is feasible: the racing step
must be its thread's next step, and enabled, after the events that do not
depend on the first one. Guards need more than the paper says (it has no
blocked steps; a blocked step is not an event, so plain race detection never
sees it):

- a guarded step races with *every* earlier write to a location it reads
  (not only the last one), because a write in between may be what keeps the
  reversed order feasible;
- when an execution ends with threads blocked, their pending steps race with
  the earlier writes to what their guards read;
- a guarded step that is disabled where its reversal would put it is not
  dropped (`enable_at`): its guard reads several locations, and the other
  writes to them that stay ahead of it keep it disabled. The last remaining
  write of each location a false part of the guard reads is removed, with
  everything that happens after it, one at a time, until the step is
  enabled or a false part reads only writes that cannot go: each set tried
  is a reordering of E, so it is a real run, and the runs where the step
  overtakes several independent writes at once are reached.

That this loses nothing is not a theorem of the paper: it is checked by the
census on random programs of every shape the model language has
(tests/langgen.py, `make soak`), and so is "optimal runs one execution per
trace".

Nondeterministic choices (`Choice`) are resolved by an oracle, so that
within one DPOR run every thread is deterministic: the k-th choice of thread
t takes oracle[(t, k)], or the first value when the oracle is silent. After a
run, each silent choice it reached spawns one run per other value; an oracle
reached twice (fix A then B, or B then A) is searched once. A run whose
execution never reaches a choice its oracle fixes repeats an execution of a
smaller oracle: it is counted as redundant, not explored as new.

In collect mode (`outcomes`, for cross-checking strategies) a run goes on
past a failing invariant and records it, so that it reaches every state the
census reaches; without it, the search stops at the first violation.

A checkpoint (explorer.search.checkpoint) is taken at the end of an
execution, or, when the execution budget runs out, just before the next
child: the execution E as its transitions, each depth's sleep set and wakeup
tree or backtrack set, the oracles and the stats. Resuming replays E, each
depth taking those sets instead of fresh ones, and every loop goes on from
there as if never stopped.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from ..compile.program import CompiledStep, Program, State, Transition
from ..lang.model import ModelError
from .budget import Budget, Meter, OutOfBudget
from .checkpoint import Checkpointer, Corrupt, Stopped
from .common import CUT_OFF, DEADLOCKED, FINISHED, Found, conclude, end_of_run
from .result import Failure, Result, Stats

# Where a checkpoint was taken: just after an execution ended (END), or just before
# the child about to be explored at the end of the saved path (BEFORE).
END, BEFORE = "end", "before"

# An event as DPOR sees it: thread, chosen value (None: no choice), read mask, write mask.
Event = tuple[int, int | None, int, int]
# A wakeup tree: ordered children, each [event, rest]. `rest` is a list of
# children, or, until something branches off it, a tuple holding the linear
# chain of events below (much smaller: pending branches are what Optimal-DPOR
# keeps in memory).
Tree = list[list]


def kids(child: list) -> Tree:
    """The children of a wakeup-tree node, unpacking one level of a chain."""
    rest = child[1]
    if type(rest) is tuple:
        rest = [[rest[0], rest[1:]]] if rest else []
        child[1] = rest
    return rest


def encode_tree(tree: Tree, alias: bool) -> list[list]:
    """A wakeup tree as a flat preorder list of [level, event, chain]: chain is the
    node's linear tail, or None when its children follow at level + 1, or "next"
    (alias) for the first child's subtree, which is the next depth's tree."""
    out: list[list] = []
    todo: list[tuple[int, list, bool]] = [(0, c, False) for c in reversed(tree)]
    if alias:
        todo[-1] = (0, tree[0], True)
    while todo:
        level, node, skip = todo.pop()
        rest = node[1]
        if skip:
            out.append([level, node[0], "next"])
        elif type(rest) is tuple:
            out.append([level, node[0], rest])
        else:
            out.append([level, node[0], None])
            todo.extend((level + 1, c, False) for c in reversed(rest))
    return out


def _event(x: Any) -> Event:
    t, v, r, w = x
    if type(t) is not int or not (v is None or type(v) is int) or type(r) is not int \
            or type(w) is not int:
        raise Corrupt(f"not an event: {x!r}")
    return (t, v, r, w)


def decode_tree(nodes: list[list], below: Tree | None) -> Tree:
    """The inverse of encode_tree; `below` is the next depth's tree (alias)."""
    root: Tree = []
    parents = [root]
    for level, ev, chain in nodes:
        if not 0 <= level < len(parents):
            raise Corrupt("wakeup tree out of order")
        del parents[level + 1:]
        if chain == "next":
            if below is None or level or root:
                raise Corrupt("wakeup tree alias out of place")
            node: list = [_event(ev), below]
        elif chain is None:
            node = [_event(ev), []]
            parents.append(node[1])
        else:
            node = [_event(ev), tuple(_event(x) for x in chain)]
        parents[level].append(node)
    if below is not None and not (root and root[0][1] is below):
        raise Corrupt("wakeup tree without its current branch")
    return root


def dependent(a: Event, b: Event) -> bool:
    return a[0] == b[0] or bool(a[3] & (b[2] | b[3])) or bool(b[3] & a[2])


def weak_initial(q: Event, seq: list[Event]) -> int | None:
    """Where q's thread first acts in seq if q can go first (index), -1 if q is
    independent of all of seq and its thread does not occur, None otherwise."""
    qt, qv, qr, qw = q
    for k, x in enumerate(seq):
        if x[0] == qt:
            return k if x[1] == qv else None
        if qw & (x[2] | x[3]) or x[3] & qr:  # dependent(q, x), inlined: hot
            return None
    return -1


def initials(seq: list[Event]) -> list[Event]:
    """Events that can be moved to the front of seq (first of their thread, no
    earlier dependent event)."""
    out: list[Event] = []
    seen: set[int] = set()
    for k, x in enumerate(seq):
        if x[0] in seen:
            continue
        seen.add(x[0])
        if not any(dependent(seq[j], x) for j in range(k)):
            out.append(x)
    return out


def insert(tree: Tree, seq: list[Event]) -> bool:
    """Adds seq to a wakeup tree unless a branch already covers it; True if added."""
    node = tree
    seq = list(seq)
    while True:
        for child in node:
            k = weak_initial(child[0], seq)
            if k is None:
                continue
            if k >= 0:
                del seq[k]
            if not child[1] or not seq:
                return False  # an existing branch already starts this way
            node = kids(child)
            break
        else:
            node.append([seq[0], tuple(seq[1:])])
            return True


@dataclass
class Outcomes:
    """Everything an exploration reached (collect mode, for cross-checking strategies)."""

    finals: set[tuple[int, ...]] = field(default_factory=set)
    deadlocks: set[tuple[int, ...]] = field(default_factory=set)
    violations: set[str] = field(default_factory=set)

    def add(self, how: str, failure: Failure | None, s: State) -> None:
        """Records how a run ended (see common.end_of_run)."""
        if failure is not None:
            self.violations.add(failure.name)
        if how == FINISHED:
            self.finals.add(tuple(s))
        elif how == DEADLOCKED:
            self.deadlocks.add(tuple(s))


class _Dpor:
    def __init__(
        self, program: Program, budget: Budget, meter: Meter, optimal: bool,
        outcomes: Outcomes | None, stats: Stats, oracle: dict[tuple[int, int], int],
    ):
        self.oracle = oracle
        self.silent: dict[tuple[int, int], tuple[int, ...]] = {}  # choices the oracle left open
        self.p = program
        self.budget = budget
        self.meter = meter
        self.optimal = optimal
        self.outcomes = outcomes
        self.stats = stats
        n = len(program.threads)
        self.choices_made = [0] * n
        self.nthreads = n
        nlocs = program.nlocs + 1
        # The current execution E, one entry per event.
        self.ev: list[Event] = []
        self.evt: list[int] = []  # thread of each event
        self.clock: list[tuple[int, ...]] = []
        self.races: list[list[int]] = []
        self.undo: list[tuple[int, list[tuple[int, int, tuple[int, ...]]]]] = []
        self.before: list[State] = []  # state before each event
        self.steps_now = [0] * n  # steps each thread took in the current execution
        # Per node (depth): sleep set, and wakeup tree or backtrack set.
        self.sleep: list[list[Event]] = []
        self.wut: list[Tree] = []
        self.backtrack: list[list[Transition]] = []
        # Per location: last write, reads since it.
        self.last_write = [-1] * nlocs
        self.reads_since = [()] * nlocs  # type: list[tuple[int, ...]]
        self.thread_last = [-1] * n
        self.fresh = 0  # events from here on have not had their races reversed
        self.zero = (0,) * n
        # Resuming: the checkpoint's path, its kind and `fresh`, until E is rebuilt.
        self.replay: tuple[list[Transition], str, int] | None = None
        # The oracle search around this one (explore_dpor), for snapshots.
        self.pending: list[dict[tuple[int, int], int]] = []
        self.searched: set[frozenset[tuple[tuple[int, int], int]]] = set()

    # -- bookkeeping of E -------------------------------------------------------

    def push(self, t: int, v: int | None, cs: CompiledStep) -> None:
        """Appends an event to E: vector clock, immediate races, location frontier."""
        # An event's own clock entry is its number among its thread's events.
        evt, clock_of = self.evt, self.clock
        i = len(evt)
        prev = self.thread_last[t]
        if prev >= 0:
            base = clock_of[prev]
            seq = base[t] + 1
        else:
            base = self.zero
            seq = 1
        lw, rs = self.last_write, self.reads_since
        preds = []
        undo = []
        for loc in cs.ronly:
            w = lw[loc]
            if w >= 0 and evt[w] != t:
                preds.append(w)
            old = rs[loc]
            undo.append((loc, w, old))
            rs[loc] = old + (i,)
        for loc in cs.wlocs:
            w = lw[loc]
            old = rs[loc]
            if w >= 0 and evt[w] != t:
                preds.append(w)
            for r in old:
                if evt[r] != t:
                    preds.append(r)
            undo.append((loc, w, old))
            lw[loc] = i
            rs[loc] = ()
        races: list[int]
        if not preds:
            clock = base
            races = []
        elif len(preds) == 1:
            c = preds[0]
            clock = tuple(map(max, base, clock_of[c]))
            tc = evt[c]
            races = [c] if base[tc] < clock_of[c][tc] else []
        else:
            uniq = set(preds)
            clock = base
            for q in uniq:
                clock = tuple(map(max, clock, clock_of[q]))
            # c races with this event unless it happens-before it some other way.
            races = [
                c for c in uniq
                if base[evt[c]] < clock_of[c][evt[c]]
                and not any(clock_of[o][evt[c]] >= clock_of[c][evt[c]] for o in uniq if o != c)
            ]
        if cs.guard is not None:
            # A guarded step races with every earlier write of what it reads.
            ev, rmask = self.ev, cs.rmask
            for j in range(i - 1, -1, -1):
                if evt[j] != t and ev[j][3] & rmask and j not in races:
                    races.append(j)
        self.ev.append(cs.event if v is None else (t, v, cs.rmask, cs.wmask))
        evt.append(t)
        clock_of.append(clock[:t] + (seq,) + clock[t + 1:])
        self.races.append(races)
        self.undo.append((prev, undo))
        self.thread_last[t] = i

    def pop(self) -> None:
        self.ev.pop()
        t = self.evt.pop()
        self.clock.pop()
        self.races.pop()
        prev, undo = self.undo.pop()
        lw, rs = self.last_write, self.reads_since
        for loc, w, r in reversed(undo):
            lw[loc] = w
            rs[loc] = r
        self.thread_last[t] = prev

    # -- exploration ------------------------------------------------------------

    def event_of(self, s: State, t: int, v: int | None) -> Event:
        cs = self.p.threads[t].steps[s[self.p.threads[t].pc_slot]]
        return (t, v, cs.rmask, cs.wmask)

    def run(self, resume: tuple[list[Transition], str, int] | None = None) -> None:
        """Searches this oracle, from the start or from a restored snapshot."""
        s0 = self.p.initial_state()
        bad = self.p.failing_invariant(s0)
        if bad is not None:
            if self.outcomes is None:
                raise Found(Failure(bad.name, bad.description, "in the initial state"), [])
            self.outcomes.violations.update(q.name for q in self.p.failing_invariants(s0))
        if resume is None:
            self.sleep.append([])
            self.wut.append([])
            self.backtrack.append([])
            self.node(s0)
            return
        path, kind, fresh = resume
        if not path:  # saved at the root itself
            self.fresh = fresh
            if kind == BEFORE:
                self.node(s0)
            return
        self.replay = resume
        self.node(s0)
        if self.replay is not None:
            raise Corrupt("the saved execution ends early")

    def node(self, s: State) -> None:
        p = self.p
        d = len(self.ev)
        trans = p.transitions(s)
        for tr in trans:
            if tr[1] is not None:
                trans = self.resolve(s, trans)
                break
        if not trans:
            self.execution_end(s, maximal=True)
            return
        sleep = self.sleep[d]
        last = self.evt[-1] if self.evt else 0
        if self.optimal:
            tree = self.wut[d]
            if not tree:
                pick = self.pick(trans, {(q[0], q[1]) for q in sleep}, last)
                if pick is None:
                    self.stats.sleep_blocked += 1
                    self.execution_end(s, maximal=False)
                    return
                tree.append([self.event_of(s, *pick), []])
            child = self.child
            while tree:
                ev = tree[0][0]
                child(s, d, ev, kids(tree[0]))
                sleep.append(ev)
                del tree[0]
            return
        asleep = {(q[0], q[1]) for q in sleep}
        bt = self.backtrack[d]
        if not bt:
            pick = self.pick(trans, asleep, last)
            if pick is None:
                self.stats.sleep_blocked += 1
                self.execution_end(s, maximal=False)
                return
            bt.append(pick)
        done: set[Transition] = set()
        while True:
            nxt = next((x for x in bt if x not in done and x not in asleep), None)
            if nxt is None:
                break
            done.add(nxt)
            ev = self.event_of(s, *nxt)
            self.child(s, d, ev, [])
            sleep.append(ev)
            asleep.add(nxt)

    def pick(
        self, trans: list[Transition], asleep: set[Transition], last: int
    ) -> Transition | None:
        best = None
        for tr in trans:
            if tr in asleep:
                continue
            if tr[0] == last:
                return tr
            if best is None:
                best = tr
        return best

    def resolve(self, s: State, trans: list[Transition]) -> list[Transition]:
        """Keeps, for a thread at a choice, only the value the oracle gives it."""
        out: list[Transition] = []
        for t, v in trans:
            if v is None:
                out.append((t, v))
                continue
            key = (t, self.choices_made[t])
            want = self.oracle.get(key)
            if want is None:
                cs = self.p.current(s, t)
                assert cs is not None and cs.choices is not None
                self.silent[key] = cs.choices
                want = cs.choices[0]
            if v == want:
                out.append((t, v))
        return out

    def child(self, s: State, d: int, ev: Event, sub: Tree) -> None:
        if self.replay is not None:
            self.replay_child(s, d, ev)
            return
        p, st = self.p, self.stats
        t, v = ev[0], ev[1]
        code = p.threads[t]
        pc = s[code.pc_slot]
        cs = code.steps[pc] if pc >= 0 else None
        if cs is None or (cs.guard is not None and not cs.guard(s)):
            raise RuntimeError(f"internal: DPOR scheduled thread {t}, which cannot run")
        limit = self.budget.max_executions
        if limit is not None and st.executions + st.sleep_blocked + st.redundant >= limit:
            raise OutOfBudget(f"--max-executions {limit} reached")
        s2 = s.copy()
        ran = p.execute(s2, t, v)
        st.events += 1
        if not st.events & 1023:
            self.meter.poll(st.events, st.executions, st.events)
        steps = self.steps_now
        steps[t] += ran
        if steps[t] > self.budget.max_steps:
            raise ModelError(
                f"thread {p.threads[t].name} took more than {self.budget.max_steps} steps in "
                "one execution: a step that never finishes (raise --max-steps if intended)"
            )
        if d < self.fresh:
            self.fresh = d
        self.before.append(s)
        self.push(t, v, cs)
        if v is not None:
            self.choices_made[t] += 1
        bad = p.failing_invariant(s2) if p.invariants else None
        if bad is not None:
            if self.outcomes is None:
                st.executions += 1  # the violating run counts, as any run that ends
                raise Found(Failure(bad.name, bad.description), self.schedule())
            # Collect mode goes on past a violation, so that it reaches every
            # state the census does, and records every invariant false here.
            self.outcomes.violations.update(q.name for q in p.failing_invariants(s2))
        # The child's sleep set: what sleeps here and is independent of ev.
        r, w = ev[2] | ev[3], ev[3]
        self.sleep.append([
            q for q in self.sleep[d] if q[0] != t and not (q[3] & r or q[2] & w)
        ])
        self.wut.append(sub)
        self.backtrack.append([])
        self.node(s2)
        self.sleep.pop()
        self.wut.pop()
        self.backtrack.pop()
        self.pop()
        self.before.pop()
        steps[t] -= ran
        if v is not None:
            self.choices_made[t] -= 1

    def replay_child(self, s: State, d: int, ev: Event) -> None:
        """child() along the saved execution: no counting (the stats are the saved
        ones), and the child's sets are the saved ones, not fresh."""
        assert self.replay is not None
        path, kind, fresh = self.replay
        p = self.p
        t, v = ev[0], ev[1]
        if d >= len(path) or path[d] != (t, v):
            raise Corrupt(f"event {d + 1} of the saved execution is not the one to explore")
        code = p.threads[t]
        pc = s[code.pc_slot]
        cs = code.steps[pc] if pc >= 0 else None
        if cs is None or (cs.guard is not None and not cs.guard(s)):
            raise Corrupt(f"event {d + 1} of the saved execution cannot run")
        s2 = s.copy()
        ran = p.execute(s2, t, v)
        steps = self.steps_now
        steps[t] += ran
        self.before.append(s)
        self.push(t, v, cs)
        if v is not None:
            self.choices_made[t] += 1
        # The sets of depth d + 1 are in place already (restore).
        if d + 1 == len(path):  # E rebuilt: from here on the search goes on as ever
            self.replay, self.fresh = None, fresh
            if kind == BEFORE:
                self.node(s2)
        else:
            self.node(s2)
        self.sleep.pop()
        self.wut.pop()
        self.backtrack.pop()
        self.pop()
        self.before.pop()
        steps[t] -= ran
        if v is not None:
            self.choices_made[t] -= 1

    def schedule(self) -> list[Transition]:
        return [(e[0], e[1]) for e in self.ev]

    def execution_end(self, s: State, maximal: bool) -> None:
        if self.replay is not None:
            raise Corrupt("the saved execution ends before its last event")
        p = self.p
        if maximal and not self.reaches_oracle():
            self.stats.redundant += 1
        elif maximal:
            self.stats.executions += 1
            how, failure = end_of_run(p, s)
            self.stats.cut_off += how == CUT_OFF
            self.stats.deadlocked += how == DEADLOCKED
            if failure is not None and self.outcomes is None:
                raise Found(failure, self.schedule())
            if self.outcomes is not None:
                self.outcomes.add(how, failure, s)
        self.reverse_races(s)
        if self.meter.due:  # a safe point: this execution is done with
            ck = self.meter.ckpt
            assert ck is not None
            ck.safe_point(self.meter, partial(self.state, END), self.stats.executions)

    # -- checkpoints ------------------------------------------------------------

    def snapshot(self, kind: str) -> dict[str, Any]:
        """The search as a checkpoint: E's transitions and each depth's sets (see the
        module's docstring), the oracles, and in collect mode the outcomes."""
        n = len(self.ev)
        assert len(self.sleep) == len(self.wut) == len(self.backtrack) == n + 1
        # encode_tree's alias: the branch being explored at depth d is depth d + 1's tree.
        assert not self.optimal or all(self.wut[d][0][1] is self.wut[d + 1] for d in range(n))
        out = self.outcomes
        return {
            "kind": kind,
            "oracle": [[t, k, v] for (t, k), v in self.oracle.items()],
            "pending": [[[t, k, v] for (t, k), v in o.items()] for o in self.pending],
            "searched": [[[t, k, v] for (t, k), v in sorted(o)] for o in self.searched],
            "silent": [[t, k, list(c)] for (t, k), c in self.silent.items()],
            "fresh": self.fresh,
            "path": self.schedule(),
            "sleep": self.sleep,
            "backtrack": self.backtrack if not self.optimal else None,
            "wut": [encode_tree(tree, d < n) for d, tree in enumerate(self.wut)]
            if self.optimal else None,
            "outcomes": None if out is None else {
                "finals": sorted(out.finals), "deadlocks": sorted(out.deadlocks),
                "violations": sorted(out.violations),
            },
        }

    def state(self, kind: str) -> tuple[dict[str, Any], Stats]:
        return self.snapshot(kind), replace(self.stats, states=self.stats.events)

    def restore(self, saved: dict[str, Any]) -> tuple[list[Transition], str, int]:
        """Takes a snapshot's sets for E's depths; returns what replay needs."""
        kind = saved["kind"]
        path = [(int(t), None if v is None else int(v)) for t, v in saved["path"]]
        n = len(path)
        if kind not in (END, BEFORE) or len(saved["sleep"]) != n + 1:
            raise Corrupt("the sets do not fit the saved execution")
        self.silent = {(int(t), int(k)): tuple(int(x) for x in c) for t, k, c in saved["silent"]}
        self.sleep = [[_event(q) for q in sl] for sl in saved["sleep"]]
        if self.optimal:
            nodes = saved["wut"]
            if len(nodes) != n + 1:
                raise Corrupt("the wakeup trees do not fit the saved execution")
            wut: list[Tree] = [[] for _ in range(n + 1)]
            below: Tree | None = None
            for d in range(n, -1, -1):
                wut[d] = decode_tree(nodes[d], below)
                below = wut[d]
            self.wut = wut
            self.backtrack = [[] for _ in range(n + 1)]
        else:
            bts = saved["backtrack"]
            if len(bts) != n + 1:
                raise Corrupt("the backtrack sets do not fit the saved execution")
            self.backtrack = [[(int(t), None if v is None else int(v)) for t, v in bt]
                              for bt in bts]
            self.wut = [[] for _ in range(n + 1)]
        if self.outcomes is not None:
            got = saved["outcomes"]
            if got is None:
                raise Corrupt("no outcomes (saved outside collect mode)")
            self.outcomes.finals.update(tuple(x) for x in got["finals"])
            self.outcomes.deadlocks.update(tuple(x) for x in got["deadlocks"])
            self.outcomes.violations.update(got["violations"])
        return path, kind, int(saved["fresh"])

    def reaches_oracle(self) -> bool:
        """Whether this execution made every choice the oracle fixes."""
        return all(self.choices_made[t] > k for t, k in self.oracle)

    # -- race reversal ----------------------------------------------------------

    def reverse_races(self, end: State) -> None:
        """Reverses the races of the execution that just ended.

        Optimal-DPOR reverses every race of every maximal execution (a race in
        a shared prefix needs a different wakeup sequence when the execution
        continues differently); source-DPOR only the races of new events.
        """
        ev, before, threads, clock = self.ev, self.before, self.p.threads, self.clock
        n, fresh = len(ev), self.fresh
        # low[k]: the least number of thread k's events that some new event
        # (from `fresh` on) happens after. An old race (e, e') whose e precedes
        # every new event in happens-before yields the same sequence as when it
        # was last reversed, minus events that cannot matter: skip it.
        clocks = self.clock[fresh:]
        low = [min(c[k] for c in clocks) for k in range(self.nthreads)] if clocks else None
        for i in range(0 if self.optimal else fresh, n):
            t = ev[i][0]
            want = before[i][threads[t].pc_slot]
            old = i < fresh
            for e in self.races[i]:
                te = ev[e][0]
                if old and (low is None or low[te] >= clock[e][te]):
                    continue
                self.reverse(e, t, ev[i][1], i, want)
        # Blocked threads' pending steps race with the writes their guards read,
        # daemons' too (but a retry step is never taken: reversing towards it
        # cannot succeed).
        for t, cs in self.p.blocked(end, daemons=True):
            if cs.retry_guard is not None or self.stuck_for_good(end, t, cs):
                continue
            want = end[threads[t].pc_slot]
            seen: set[tuple[int, ...]] = set()
            for e in range(n):
                if ev[e][0] != t and ev[e][3] & cs.rmask:
                    self.reverse(e, t, None, n, want, seen)
        self.fresh = n

    def reverse(self, e: int, t: int, v: int | None, i: int, want_pc: int,
                seen: set[tuple[int, ...]] | None = None) -> None:
        """Schedule E' . notdep(e, E) . t where E' is E before e, if feasible and new.

        `want_pc` is the step of t that races with e: the reversal makes sense
        only if that is t's next step after notdep(e, E). `i` is where that
        step ran in E (len(E): it never ran, t is blocked at the end).
        """
        ev, clock = self.ev, self.clock
        te, se = ev[e][0], clock[e][ev[e][0]]
        # t's last event before i: if e happens before it, t is not at want_pc
        # without e (reversing e against that event is that race's business).
        mine = self.undo[i][0] if i < len(ev) else self.thread_last[t]
        if mine >= 0 and clock[mine][te] >= se:
            return
        if i < len(ev):
            code = self.p.threads[t]
            if code.steps[self.before[i][code.pc_slot]].guard is None:
                # An unguarded step is enabled wherever its thread is at it.
                notdep = [ev[j] for j in range(e + 1, len(ev)) if clock[j][te] < se]
                self.schedule_at(e, notdep + [ev[i]])
                return
        self.enable_at((e,), t, v, mine, want_pc, set() if seen is None else seen)

    def enable_at(self, gone: tuple[int, ...], t: int, v: int | None, mine: int, want_pc: int,
                  seen: set[tuple[int, ...]]) -> None:
        """Schedule t's guarded step `want_pc` right after E less the events `gone`
        and everything that happens after them, if it is enabled there.

        If its guard is false there, the other writes it reads are what keep it
        disabled (the guard read several locations written independently):
        remove, one at a time, the last remaining write of each location it
        reads and try again. Every such set is a state of a reordering of E
        (a downward-closed set of its events), so each attempt is a real run;
        dropping the reversal instead would lose the runs where the step
        overtakes all of those writes at once.
        """
        ev, clock, evt, p = self.ev, self.clock, self.evt, self.p
        start = min(gone)
        if len(gone) == 1:
            te, se = evt[start], clock[start][evt[start]]
            kept = [j for j in range(start + 1, len(ev)) if clock[j][te] < se]
        else:
            cuts = [(evt[d], clock[d][evt[d]]) for d in gone]
            kept = [j for j in range(start + 1, len(ev))
                    if all(clock[j][td] < sd for td, sd in cuts)]
        s = list(self.before[start])
        for j in kept:
            p.execute(s, ev[j][0], ev[j][1])
        code = p.threads[t]
        if s[code.pc_slot] != want_pc:
            return  # t must first take steps that depend on what was removed
        cs = code.steps[want_pc]
        if cs.guard is None or cs.guard(s):
            if v is None and cs.choices is not None:
                made = sum(1 for j in range(start) if evt[j] == t and ev[j][1] is not None)
                made += sum(1 for j in kept if evt[j] == t and ev[j][1] is not None)
                v = self.oracle.get((t, made), cs.choices[0])
            last = cs.event if v is None else (t, v, cs.rmask, cs.wmask)
            self.schedule_at(start, [ev[j] for j in kept] + [last])
            return
        # Only the locations a false part of the guard reads matter, and only
        # writes that may go: not t's own, not one that happens before t's last
        # event (`mine`). A false part whose locations none can change stays
        # false however the rest is reordered: then nothing enables the step.
        movable: dict[int, int] = {}  # location -> its last write that may go
        for part, locs in cs.conjuncts:
            if part(s):
                continue
            any_movable = False
            for loc in locs:
                x = self.last_kept_write(loc, kept, start)
                if x < 0 or evt[x] == t:
                    continue
                tx = evt[x]
                if mine >= 0 and clock[mine][tx] >= clock[x][tx]:
                    continue
                movable[loc] = x
                any_movable = True
            if not any_movable:
                return
        for x in movable.values():
            more = tuple(sorted({*gone, x}))
            if more not in seen:
                seen.add(more)
                self.enable_at(more, t, v, mine, want_pc, seen)

    def stuck_for_good(self, end: State, t: int, cs: CompiledStep) -> bool:
        """Whether a false part of t's guard at the end of E reads only locations
        whose last write no reordering can remove (t's own, or one that happens
        before t's last event): then no reversal can enable t's step (a store
        buffer's flusher with its buffer empty, say)."""
        ev, clock, evt = self.ev, self.clock, self.evt
        mine = self.thread_last[t]
        n = len(ev)
        for part, locs in cs.conjuncts:
            if part(end):
                continue
            for loc in locs:
                x = self.last_kept_write(loc, [], n)
                if x >= 0 and evt[x] != t and not (
                        mine >= 0 and clock[mine][evt[x]] >= clock[x][evt[x]]):
                    break
            else:
                return True
        return False

    def last_kept_write(self, loc: int, kept: list[int], start: int) -> int:
        """The last event that writes loc among E's first `start` events and `kept`."""
        ev, bit = self.ev, 1 << loc
        for j in reversed(kept):
            if ev[j][3] & bit:
                return j
        for j in range(start - 1, -1, -1):
            if ev[j][3] & bit:
                return j
        return -1

    def schedule_at(self, node: int, seq: list[Event]) -> None:
        """Adds the wakeup sequence seq after E's first `node` events, unless a
        branch already explored there (its sleep set) or pending covers it."""
        if self.optimal:
            if any(weak_initial(q, seq) is not None for q in self.sleep[node]):
                return
            insert(self.wut[node], seq)
        else:
            bt = self.backtrack[node]
            ini = initials(seq)
            if not any((x[0], x[1]) in bt for x in ini):
                bt.append((ini[0][0], ini[0][1]))


def _oracle(items: list[list[int]]) -> dict[tuple[int, int], int]:
    return {(int(t), int(k)): int(v) for t, k, v in items}


def _queue(saved: dict[str, Any]) -> tuple[list[dict[tuple[int, int], int]],
                                            set[frozenset[tuple[tuple[int, int], int]]]]:
    """The oracles still to search, the current one last, and those ever queued."""
    oracles = [_oracle(o) for o in saved["pending"]] + [_oracle(saved["oracle"])]
    return oracles, {frozenset(_oracle(o).items()) for o in saved["searched"]}


def explore_dpor(
    program: Program,
    *,
    optimal: bool,
    budget: Budget,
    progress: bool | None = None,
    outcomes: Outcomes | None = None,
    checkpoint: Checkpointer | None = None,
) -> Result:
    def body(meter: Meter, stats: Stats) -> None:
        # Two frames per event; an execution is at most max_steps events per thread
        # (more is the ModelError of child()), so that error, not Python's, ends a spin
        # loop that never gives up.
        limit = sys.getrecursionlimit()
        depth = 2 * budget.max_steps * len(program.threads) + 1000
        sys.setrecursionlimit(max(limit, 20_000, depth))
        try:
            # One DPOR search per oracle; an oracle is reached from several
            # others (fix A then B, or B then A), and is searched once.
            oracles: list[dict[tuple[int, int], int]] = [{}]
            searched: set[frozenset[tuple[tuple[int, int], int]]] = {frozenset()}
            saved = checkpoint.resumed if checkpoint is not None else None
            if saved is not None:
                assert checkpoint is not None
                oracles, searched = checkpoint.decode(_queue)
            while oracles:
                oracle = oracles.pop()
                search = _Dpor(program, budget, meter, optimal, outcomes, stats, oracle)
                search.pending, search.searched = oracles, searched
                try:
                    if saved is not None:
                        assert checkpoint is not None
                        resume = checkpoint.decode(search.restore)
                        saved = None
                        try:
                            search.run(resume)
                        except Corrupt as err:
                            raise checkpoint.corrupt(err) from None
                    else:
                        search.run()
                except OutOfBudget as stop:
                    if checkpoint is None or isinstance(stop, Stopped):
                        raise
                    # The execution budget, raised before a child: a safe point too.
                    checkpoint.halt(meter, str(stop), partial(search.state, BEFORE))
                except RecursionError:
                    raise ModelError(
                        f"an execution ran {len(search.ev)} events deep: a loop that never "
                        "ends (lower --max-steps, or try --strategy stateful to find it)"
                    ) from None
                for key, values in search.silent.items():
                    for v in values[1:]:
                        more = {**oracle, key: v}
                        if frozenset(more.items()) not in searched:
                            searched.add(frozenset(more.items()))
                            oracles.append(more)
        finally:
            sys.setrecursionlimit(limit)
            stats.states = stats.events

    return conclude("optimal" if optimal else "dpor", program, budget, progress, body,
                    checkpoint)


__all__ = ["Outcomes", "dependent", "explore_dpor", "initials", "insert"]
