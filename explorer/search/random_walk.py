"""Seeded random schedules: a quick smoke run that can find a bug but never proves one absent."""

from __future__ import annotations

import random

from ..compile.program import Program, Transition
from ..lang.model import ModelError
from .budget import Budget, Meter, OutOfBudget
from .common import CUT_OFF, Found, conclude, end_of_run
from .result import Failure, Result, Stats

DEFAULT_RUNS = 1000


def explore_random(
    program: Program, *, budget: Budget, progress: bool | None = None
) -> Result:
    rng = random.Random(budget.seed)
    runs = budget.max_executions or DEFAULT_RUNS

    def body(meter: Meter, stats: Stats) -> None:
        for _ in range(runs):
            try:
                _one_run(program, budget, rng, meter, stats)
            finally:  # the run that found a violation counts too
                stats.executions += 1
                stats.states = stats.events
        # Finishing is no proof: never HOLDS.
        raise OutOfBudget(f"random strategy ran {runs} schedules (seed {budget.seed}); "
                          "it never proves")

    return conclude("random", program, budget, progress, body)


def _one_run(
    program: Program, budget: Budget, rng: random.Random, meter: Meter, stats: Stats
) -> None:
    s = program.initial_state()
    path: list[Transition] = []
    steps = [0] * len(program.threads)
    while True:
        bad = program.failing_invariant(s)
        if bad is not None:
            raise Found(Failure(bad.name, bad.description), path)
        trans = program.transitions(s)
        if not trans:
            break
        t, v = rng.choice(trans)
        steps[t] += program.execute(s, t, v)
        if steps[t] > budget.max_steps:
            raise ModelError(
                f"thread {program.threads[t].name} took more than {budget.max_steps} "
                "steps in one execution: a step that never finishes"
            )
        path.append((t, v))
        stats.events += 1
        if not stats.events & 1023:
            meter.poll(stats.events, stats.executions, stats.states)
    how, failure = end_of_run(program, s)
    stats.cut_off += how == CUT_OFF
    if failure is not None:
        raise Found(failure, path)
