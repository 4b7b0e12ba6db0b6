"""Brute force: every schedule, grouped into Mazurkiewicz traces.

Two executions are equivalent when one can be turned into the other by
swapping adjacent independent events (explorer.search.dpor.dependent). The
canonical form of an execution is the lexicographically least (by thread
number) ordering of its events that respects every dependency, so equivalent
executions, and only they, share it. This is the yardstick the DPOR
strategies are measured against: `optimal` must explore exactly one
execution per class.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..compile.program import Program
from .common import end_of_run
from .dpor import Event, Outcomes, dependent


@dataclass
class Census:
    classes: set[tuple] = field(default_factory=set)
    executions: int = 0
    outcomes: Outcomes = field(default_factory=Outcomes)


def canonical(events: list[Event]) -> tuple:
    n = len(events)
    preds = [
        {j for j in range(i) if dependent(events[j], events[i])} for i in range(n)
    ]
    taken: set[int] = set()
    out = []
    while len(taken) < n:
        best = min(
            (i for i in range(n) if i not in taken and preds[i] <= taken),
            key=lambda i: (events[i][0], i),
        )
        taken.add(best)
        out.append((events[best][0], events[best][1]))
    return tuple(out)


def census(program: Program, max_executions: int = 2_000_000) -> Census:
    """Every schedule of a (small) program; stops with an error past max_executions."""
    c = Census()
    path: list[Event] = []

    def visit(s: list[int]) -> None:
        trans = program.transitions(s)
        if not trans:
            c.executions += 1
            if c.executions > max_executions:
                raise RuntimeError(f"census: more than {max_executions} schedules")
            c.classes.add(canonical(path))
            how, failure = end_of_run(program, s)
            c.outcomes.add(how, failure, s)
            return
        for t, v in trans:
            cs = program.current(s, t)
            assert cs is not None
            s2 = list(s)
            program.execute(s2, t, v)
            path.append((t, v, cs.rmask, cs.wmask))
            # Runs go on past a violation: the census reaches every state.
            c.outcomes.violations.update(p.name for p in program.failing_invariants(s2))
            visit(s2)
            path.pop()

    s0 = program.initial_state()
    c.outcomes.violations.update(p.name for p in program.failing_invariants(s0))
    visit(s0)
    return c
