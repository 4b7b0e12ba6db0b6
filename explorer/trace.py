"""Turning a schedule (the choices of a run) back into the steps it executed."""

from __future__ import annotations

from collections.abc import Sequence

from .model import ModelError
from .program import Program, State, StepRecord, Transition


def replay(program: Program, schedule: Sequence[Transition]) -> tuple[list[StepRecord], State]:
    """Re-executes a schedule deterministically, recording every step.

    Raises ModelError naming the position where the schedule stops fitting
    the model (a thread that is finished, blocked, or has no such choice).
    """
    s = program.initial_state()
    records: list[StepRecord] = []
    for i, (t, v) in enumerate(schedule, 1):
        if not 0 <= t < len(program.threads):
            raise ModelError(f"schedule step {i}: no thread number {t}")
        enabled = program.transitions(s)
        if (t, v) not in enabled:
            name = program.threads[t].name
            cs = program.current(s, t)
            if cs is None:
                why = "it has already returned"
            elif cs.choices is not None and v not in cs.choices:
                why = f"step {cs.step.label!r} has no choice {v}"
            else:
                why = f"its step {cs.step.label!r} is not enabled"
            raise ModelError(f"schedule diverges at step {i}: thread {name} cannot run: {why}")
        records.extend(program.execute_traced(s, t, v))
    return records, s
