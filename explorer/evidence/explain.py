"""Which races decided a violation: the conflicting pairs whose order, flipped, avoids it.

For each pair of conflicting steps of different threads that are adjacent in
happens-before (no third step orders them), the counterexample is rebuilt
with the second step moved before the first (the steps in between that do
not depend on the first come along), then run on: first the rest of the
counterexample in its order, then whatever can still run. If that run no
longer violates the property, the pair's order decided the outcome.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..compile.program import Program, StepRecord, Transition
from ..search.minimize import violates


@dataclass(frozen=True)
class Race:
    first: int  # 1-based step numbers in the counterexample's text trace
    second: int
    locations: tuple[str, ...]
    sentence: str


def _violates(program: Program, schedule: list[Transition], target: str) -> bool:
    """Runs the schedule leniently (skipping what cannot run), then finishes greedily."""
    s = program.initial_state()
    for t, v in schedule:
        if (t, v) not in program.transitions(s):
            continue
        program.execute(s, t, v)
        bad = program.failing_invariant(s)
        if bad is not None:
            return bad.name == target
    for _ in range(100_000):
        trans = program.transitions(s)
        if not trans:
            break
        program.execute(s, *trans[0])
        bad = program.failing_invariant(s)
        if bad is not None:
            return bad.name == target
    return violates(program, s, target)


def _access(rec: StepRecord, loc: str) -> str:
    writes, reads = dict(rec.writes), dict(rec.reads)
    if loc in writes:
        return f"wrote {loc}={writes[loc]}"
    return f"read {loc}={reads.get(loc, '?')}"


def decisive_races(
    program: Program, schedule: list[Transition], records: list[StepRecord], target: str
) -> list[Race]:
    # The events of the schedule: their footprints and the text-trace step that leads each.
    s = program.initial_state()
    events = []
    lead = [i for i, rec in enumerate(records) if not rec.fused]
    for k, (t, v) in enumerate(schedule):
        cs = program.current(s, t)
        assert cs is not None
        events.append((t, cs.rmask, cs.wmask, set(cs.step.reads), set(cs.step.writes), lead[k]))
        program.execute(s, t, v)
    n = len(events)

    def dep(a: int, b: int) -> bool:
        ta, ra, wa = events[a][:3]
        tb, rb, wb = events[b][:3]
        return ta == tb or bool(wa & (rb | wb)) or bool(wb & ra)

    # after[i]: events that happen after event i (transitively).
    after: list[set[int]] = [set() for _ in range(n)]
    for j in range(n - 1, -1, -1):
        for k in range(j + 1, n):
            if dep(j, k):
                after[j].add(k)
                after[j] |= after[k]
    races: list[Race] = []
    for i in range(n):
        for j in range(i + 1, n):
            if events[i][0] == events[j][0] or not dep(i, j):
                continue
            if any(j in after[k] for k in after[i] if k < j):
                continue  # ordered through a third step: not a race
            between = [k for k in range(i + 1, j) if k not in after[i]]
            rest = [k for k in range(i, n) if k != j and k not in between]
            flipped = schedule[:i] + [schedule[k] for k in between] + [schedule[j]]
            flipped += [schedule[k] for k in rest]
            if _violates(program, flipped, target):
                continue
            a, b = records[events[i][5]], records[events[j][5]]
            shared = (events[i][3] | events[i][4]) & (events[j][3] | events[j][4])
            # Name the system's own memory, not the properties' ghosts, when there is one.
            locs = tuple(sorted(x for x in shared if x in program.model.shared))
            locs = locs or tuple(sorted(shared))
            loc = locs[0]
            sentence = (
                f"{a.thread_name} {_access(a, loc)} at {a.line} ({a.label}) before "
                f"{b.thread_name} {_access(b, loc)} at {b.line} ({b.label}); "
                "flipped, the run no longer violates the property"
            )
            races.append(Race(events[i][5] + 1, events[j][5] + 1, locs, sentence))
    return races
