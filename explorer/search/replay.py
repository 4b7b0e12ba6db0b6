"""Turning a schedule (the choices of a run) back into the steps it executed."""

from __future__ import annotations

from collections.abc import Sequence

from ..compile.lowering import fold_buffers
from ..compile.program import Program, State, StepRecord, Transition
from ..lang.model import ModelError


def replay(
    program: Program,
    schedule: Sequence[Transition],
    expected: Sequence[tuple[str, str]] | None = None,
) -> tuple[list[StepRecord], State]:
    """Re-executes a schedule deterministically, recording every step.

    Raises ModelError naming the position where the schedule stops fitting
    the model (a thread that is finished, blocked, or has no such choice).
    With `expected`, one (step label, kernel line) per schedule entry as a
    schedule file records them, every thread must also be at the recorded
    step, and no invariant may fail before the schedule's last step (the
    recorded run stopped at its violation).
    """
    if expected is not None and len(expected) != len(schedule):
        raise ModelError(f"{len(schedule)} schedule steps but {len(expected)} step labels")
    s = program.initial_state()
    records: list[StepRecord] = []
    for i, (t, v) in enumerate(schedule, 1):
        if not 0 <= t < len(program.threads):
            raise ModelError(f"schedule step {i}: no thread number {t}")
        if expected is not None:
            _expect(program, s, i, t, v, *expected[i - 1])
            bad = program.failing_invariant(s)
            if bad is not None:
                raise ModelError(
                    f"schedule diverges at step {i}: the model already violates {bad.name} "
                    f"{f'after step {i - 1}' if i > 1 else 'in the initial state'}, "
                    f"but the schedule goes on for {len(schedule) - i + 1} more step(s)"
                )
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
        records.extend(fold_buffers(r) for r in program.execute_traced(s, t, v))
    return records, s


def _expect(
    program: Program, s: State, i: int, t: int, v: int | None, label: str, line: str
) -> None:
    """The recorded thread must be at the recorded, enabled step with the recorded choice."""
    name = program.threads[t].name
    where = f"expected {name} at {label} ({line})"
    cs = program.current(s, t)
    if cs is None:
        raise ModelError(
            f"schedule diverges at step {i}: {where}, the model has it finished (returned)"
        )
    if cs.step.label != label:
        raise ModelError(
            f"schedule diverges at step {i}: {where}, the model has it at {cs.step.label} "
            f"({cs.step.line})"
        )
    if cs.guard is not None and not cs.guard(s):
        waits = cs.step.waits_for or "guard false"
        raise ModelError(
            f"schedule diverges at step {i}: {where}, the model has it blocked at "
            f"{cs.step.label} ({waits})"
        )
    if cs.choices is None and v is not None:
        raise ModelError(
            f"schedule diverges at step {i}: {where} choosing {v}, the model's step "
            f"{label} makes no choice"
        )
    if cs.choices is not None and v not in cs.choices:
        known = ", ".join(str(c) for c in cs.choices)
        raise ModelError(
            f"schedule diverges at step {i}: {where} choosing {v}, the model's step "
            f"{label} offers {known}"
        )
