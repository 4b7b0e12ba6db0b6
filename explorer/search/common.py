"""What every strategy shares: how a search ends, and how that becomes a Result."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import replace

from ..compile.program import Program, State, Transition
from ..lang.model import ModelError
from .budget import Budget, Meter, OutOfBudget
from .checkpoint import Checkpointer, signals
from .result import (
    DEADLOCK,
    DEADLOCK_TEXT,
    ERROR,
    HOLDS,
    INCOMPLETE,
    VIOLATED,
    Failure,
    Result,
    Stats,
)


class Found(Exception):
    """Raised inside a search at the first violation."""

    def __init__(self, failure: Failure, schedule: list[Transition]):
        super().__init__(failure.name)
        self.failure = failure
        self.schedule = schedule


def deadlock_failure(program: Program, state: State) -> Failure:
    stuck = "; ".join(
        f"{program.threads[t].name} blocked at {cs.step.label} "
        f"({cs.step.waits_for or 'guard false'})"
        for t, cs in program.blocked(state)
    )
    return Failure(DEADLOCK, DEADLOCK_TEXT, stuck)


FINISHED, CUT_OFF, DEADLOCKED = "finished", "cut off", "deadlocked"


def end_of_run(program: Program, s: State) -> tuple[str, Failure | None]:
    """How a run that can go no further ended, and what it violates: every thread
    returned (a final property may fail), cut off at a retry (Program.cut_off:
    no verdict either way), or deadlocked."""
    if program.finished(s):
        bad = program.failing_final(s)
        if bad is None:
            return FINISHED, None
        return FINISHED, Failure(bad.name, bad.description, "when all threads returned")
    if program.cut_off(s):
        return CUT_OFF, None
    return DEADLOCKED, deadlock_failure(program, s)


def failure_in(program: Program, s: State) -> Failure | None:
    """What state s violates: an invariant, or where no thread can move, what
    end_of_run says."""
    bad = program.failing_invariant(s)
    if bad is not None:
        return Failure(bad.name, bad.description)
    if program.transitions(s):
        return None
    return end_of_run(program, s)[1]


def conclude(
    strategy: str,
    program: Program,
    budget: Budget,
    progress: bool | None,
    body: Callable[[Meter, Stats], None],
    checkpoint: Checkpointer | None = None,
) -> Result:
    """Runs a search body; a violation, a budget or a model error ends it early.

    Only a body that returns normally has explored everything: HOLDS. A budget
    that runs out gives INCOMPLETE, never HOLDS. With a checkpoint the stats
    start from the resumed run's, and SIGINT/SIGTERM stop the body at a safe
    point (INCOMPLETE, the checkpoint saved).
    """
    stats = replace(checkpoint.stats) if checkpoint is not None else Stats()
    meter = Meter(budget, progress, label=strategy, checkpoint=checkpoint)
    checked = [p.name for p in program.invariants + program.finals] + [DEADLOCK]
    failure: Failure | None = None
    schedule: list[Transition] | None = None
    reason = ""
    try:
        with signals(meter) if checkpoint is not None else nullcontext():
            body(meter, stats)
        verdict = HOLDS
    except Found as found:
        verdict, failure, schedule = VIOLATED, found.failure, found.schedule
    except OutOfBudget as stop:
        verdict, reason = INCOMPLETE, str(stop)
    except ModelError as err:
        verdict, reason = ERROR, str(err)
    finally:
        meter.close()
    stats.seconds = meter.elapsed()
    result = Result(verdict, strategy, stats, failure, schedule, reason, checked)
    if checkpoint is not None:
        checkpoint.finish(result)
    return result
