"""Seeded random schedules: a quick smoke run that can find a bug but never proves one absent."""

from __future__ import annotations

import random

from ..budget import Budget, Meter, OutOfBudget
from ..model import ModelError
from ..program import Program, Transition
from ..result import DEADLOCK, ERROR, INCOMPLETE, VIOLATED, Failure, Result, Stats
from .common import deadlock_failure

DEFAULT_RUNS = 1000


def explore_random(
    program: Program, *, budget: Budget, progress: bool | None = None, seed: int | None = None
) -> Result:
    rng = random.Random(budget.seed if seed is None else seed)
    runs = budget.max_executions or DEFAULT_RUNS
    meter = Meter(budget, progress, label="random")
    stats = Stats()
    checked = [p.name for p in program.invariants + program.finals] + [DEADLOCK]
    failure: Failure | None = None
    schedule: list[Transition] | None = None
    reason = f"random strategy ran {runs} schedules (seed {budget.seed}); it never proves"
    verdict = INCOMPLETE
    try:
        for _ in range(runs):
            s = program.initial_state()
            path: list[Transition] = []
            steps = [0] * len(program.threads)
            while True:
                bad = program.failing_invariant(s)
                if bad is not None:
                    failure = Failure(bad.name, bad.description)
                    break
                trans = program.transitions(s)
                if not trans:
                    if not program.finished(s):
                        failure = deadlock_failure(program, s)
                    else:
                        fin = program.failing_final(s)
                        if fin is not None:
                            failure = Failure(fin.name, fin.description,
                                              "when all threads returned")
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
                if stats.events & 1023 == 0:
                    meter.poll(stats.events, stats.executions, stats.states)
            stats.executions += 1
            if failure is not None:
                verdict, schedule, reason = VIOLATED, path, ""
                break
    except OutOfBudget as stop:
        reason = f"{stop}; random strategy never proves"
    except ModelError as err:
        verdict, reason = ERROR, str(err)
    finally:
        meter.close()
    stats.seconds = meter.elapsed()
    stats.states = stats.events
    return Result(verdict, "random", stats, failure, schedule, reason, checked)
