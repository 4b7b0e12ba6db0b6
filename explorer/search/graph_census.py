"""Brute force over execution graphs: every reads-from choice, every coherence order.

The yardstick of the execution-graph strategy, as explorer.search.oracle is
of the interleaving ones. For a small program and a machine (sc, tso, pso):

1. each thread's candidate runs: every path through its steps in which each
   load reads a value some store of the program can write (the *pool*), a
   choice takes each of its values, and a step whose guard is false on what it
   read ends the run there, blocked;
2. every combination of one run per thread whose reads name stores that the
   combination makes, with the values they store;
3. every order of the combination's events that the machine allows
   (explorer.memory.machine): the coherence orders those orders produce make
   the graphs, their prefixes the states (invariants), their ends the final
   states.

The pool starts with the initial values and grows with the stores that some
order of the machine placed (in a complete graph or not) until nothing new
appears: a store's value depends only on loads the machine placed before it,
so every store of every execution is reached.

A complete graph ends *finished* (every non-daemon thread returned: final
properties are checked), *cut off* at a retry (Program.cut_off), or
*deadlocked*; a thread waiting at a guard reads the final memory there (else
the run is another graph's, in which it read the last stores).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import product

from ..compile.program import LOCAL_CHAIN_LIMIT, Program
from ..lang.model import ModelError
from ..memory.graph import INIT, Event, Src, ghost_free
from ..memory.machine import Machine, Run
from .common import CUT_OFF, DEADLOCKED, FINISHED
from .dpor import Outcomes
from .result import DEADLOCK

MAX_EVENTS = 40  # per thread: past it a run is taken to loop for ever


@dataclass
class GraphCensus:
    graphs: dict[str, int] = field(default_factory=lambda: {FINISHED: 0, CUT_OFF: 0,
                                                            DEADLOCKED: 0})
    outcomes: Outcomes = field(default_factory=Outcomes)
    keys: set[tuple] = field(default_factory=set)  # one per complete graph

    @property
    def total(self) -> int:
        return sum(self.graphs.values())


def graph_census(program: Program, mm: str = "sc", max_combinations: int = 200_000
                 ) -> GraphCensus:
    ghost_free(program)
    machine = Machine(program, mm)
    shared = list(range(len(program.model.shared)))
    s0 = program.initial_state()
    pool: dict[int, set[tuple[Src, int]]] = {x: {(INIT, s0[x])} for x in shared}
    while True:
        result, found = _round(program, machine, pool, max_combinations)
        grown = False
        for x, src, v in found:
            if (src, v) not in pool[x]:
                pool[x].add((src, v))
                grown = True
        if not grown:
            return result


def _round(program: Program, machine: Machine, pool: dict[int, set[tuple[Src, int]]],
           limit: int) -> tuple[GraphCensus, set[tuple[int, Src, int]]]:
    ordered = {x: sorted(v) for x, v in pool.items()}
    runs = [list(_runs(program, t, ordered)) for t in range(len(program.threads))]
    out = GraphCensus()
    found: set[tuple[int, Src, int]] = set()
    n = 0
    for combo in product(*runs):
        n += 1
        if n > limit:
            raise RuntimeError(f"graph census: more than {limit} combinations of runs")
        if not _sources_exist(combo):
            continue
        placed = machine.place(combo)
        out.outcomes.violations.update(placed.violations)
        for co, finals in placed.complete.items():
            key = (tuple(tuple((e.pc, e.reads, e.choice, e.blocked) for e in r.events)
                         for r in combo), co)
            out.keys.add(key)
            how = _how(program, combo, next(iter(finals)))
            out.graphs[how] += 1
            for final in finals:
                _record(program, out.outcomes, how, list(final))
        found |= placed.stores
    return out, found


def _how(program: Program, combo: tuple[Run, ...], final: tuple[int, ...]) -> str:
    s = list(final)
    if program.finished(s):
        return FINISHED
    if program.cut_off(s):
        return CUT_OFF
    return DEADLOCKED


def _record(program: Program, outcomes: Outcomes, how: str, s: list[int]) -> None:
    if how == FINISHED:
        bad = program.failing_final(s)
        if bad is not None:
            outcomes.violations.add(bad.name)
        outcomes.finals.add(tuple(s))
    elif how == DEADLOCKED:
        outcomes.violations.add(DEADLOCK)
        outcomes.deadlocks.add(tuple(s))


def _sources_exist(combo: tuple[Run, ...]) -> bool:
    for r in combo:
        for e in r.events:
            for x, (t, k), v in e.reads:
                if t < 0:
                    continue
                es = combo[t].events
                if k >= len(es) or es[k].blocked or dict(es[k].writes).get(x) != v \
                        or x not in dict(es[k].writes):
                    return False
    return True


def _runs(program: Program, t: int, pool: dict[int, list[tuple[Src, int]]]
          ) -> Iterator[Run]:
    """Thread t's candidate runs over the pool. Loads that would break coherence
    within the thread are not tried (true on every machine here and in LKMM): a
    load of x cannot read a store older than one the thread has already read or
    made, so once it reads a newer one or stores to x, the older ones are
    *stale*; and it reads its own stores only from before it."""
    code = program.threads[t]
    shared = program.model.shared
    slot_of = {name: program._loc(name) for name in shared}
    Seen = tuple[tuple[Src, frozenset[Src]], ...]  # per shared slot: (latest, stale)

    def candidates(events: tuple[Event, ...], seen: Seen, x: int) -> list[tuple[Src, int]]:
        """Other threads' stores that are not stale, and its own latest store to x."""
        latest, stale = seen[x]
        out = [c for c in pool[x] if c[0][0] != t and c[0] not in stale]
        if latest[0] == t:
            out.append((latest, dict(events[latest[1]].writes)[x]))
        return out

    def after(seen: Seen, x: int, new: Src) -> Seen:
        latest, stale = seen[x]
        if new == latest:
            return seen
        return seen[:x] + ((new, stale | {latest}),) + seen[x + 1:]

    def go(s: list[int], events: tuple[Event, ...], seen: Seen) -> Iterator[Run]:
        pc = s[code.pc_slot]
        if pc < 0:
            yield Run(events, tuple(s), True)
            return
        if len(events) >= MAX_EVENTS:
            raise RuntimeError(f"graph census: thread {code.name} runs more than "
                               f"{MAX_EVENTS} steps")
        cs = code.steps[pc]
        rs = [slot_of[n] for n in cs.step.reads if n in shared]
        ws = sorted(slot_of[n] for n in cs.step.writes if n in shared)  # lowering's order
        for combo in product(*(candidates(events, seen, x) for x in rs)):
            s2 = list(s)
            reads = []
            seen2 = seen
            for x, (src, v) in zip(rs, combo, strict=True):
                s2[x] = v
                reads.append((x, src, v))
                seen2 = after(seen2, x, src)
            before = tuple(s2)
            if cs.retry_guard is not None or (cs.guard is not None and not cs.guard(s2)):
                yield Run(events + (Event(t, len(events), pc, tuple(reads), (), True,
                                          None, before),), tuple(s), False)
                continue
            options: tuple[int | None, ...] = tuple(cs.choices) if cs.choices is not None \
                else (None,)
            for choice in options:
                s3 = list(s2)
                if choice is None:
                    cs.apply(s3)
                else:
                    cs.apply(s3, choice)
                settle(s3)
                e = Event(t, len(events), pc, tuple(reads), tuple((x, s3[x]) for x in ws),
                          False, choice, before)
                seen3 = seen2
                for x in ws:
                    seen3 = after(seen3, x, (t, len(events)))
                yield from go(s3, events + (e,), seen3)

    def settle(s: list[int]) -> None:
        """Program._settle, but a fence is an event here (the machine orders by it)."""
        n = 0
        while s[code.pc_slot] >= 0:
            st = code.steps[s[code.pc_slot]]
            if not st.local or st.step.fence or (st.guard is not None and not st.guard(s)):
                return
            st.apply(s)
            n += 1
            if n > LOCAL_CHAIN_LIMIT:
                raise ModelError(f"thread {code.name}: local steps loop forever")

    s0 = [d.init for d in program.decls]
    s0[code.pc_slot] = code.entry
    settle(s0)
    nothing: frozenset[Src] = frozenset()
    yield from go(s0, (), tuple((INIT, nothing) for _ in slot_of))
