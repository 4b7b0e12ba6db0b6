"""Depth-first exploration: `naive` (every schedule) and `stateful` (visited-state cache).

Both run the same loop; `stateful` keeps, for every fully explored state, the
number of complete schedules below it, so a revisited state is not explored
again but still counted: its `schedules` figure equals what `naive` would
enumerate. States on the current path are tracked to report cycles (an
execution that can run forever) as a model error.
"""

from __future__ import annotations

from ..compile.program import Program, Transition
from ..lang.model import ModelError
from .budget import Budget, Meter, OutOfBudget
from .common import CUT_OFF, Found, conclude, end_of_run
from .result import Failure, Result, Stats


def _ordered(trans: list[Transition], last: int) -> list[Transition]:
    """The thread that just ran goes first: counterexamples with few context switches."""
    if len(trans) > 1 and trans[0][0] != last and any(tr[0] == last for tr in trans):
        return [x for x in trans if x[0] == last] + [x for x in trans if x[0] != last]
    return trans


def explore(
    program: Program,
    *,
    cache: bool,
    budget: Budget,
    progress: bool | None = None,
) -> Result:
    return conclude(
        "stateful" if cache else "naive", program, budget, progress,
        lambda meter, stats: _run(program, cache, budget, meter, stats),
    )


def _run(program: Program, cache: bool, budget: Budget, meter: Meter, stats: Stats) -> None:
    s0 = program.initial_state()
    bad = program.failing_invariant(s0)
    if bad is not None:
        raise Found(Failure(bad.name, bad.description, "in the initial state"), [])
    max_steps = budget.max_steps
    max_exec = budget.max_executions if budget.max_executions is not None else -1
    execute = program.execute
    transitions = program.transitions
    failing_inv = program.failing_invariant
    check_every = Meter.CHECK_EVERY
    # schedules[key]: complete schedules below a fully explored state (stateful only)
    schedules: dict[tuple[int, ...], int] = {}
    known_get = schedules.get
    on_path: set[tuple[int, ...]] = set()
    key0 = tuple(s0)
    trans0 = transitions(s0)
    if not trans0:
        stats.executions = stats.schedules = stats.states = 1
        _leaf(program, s0, [], stats)
        return
    # frame: [key, transitions, next index, schedules below]
    stack: list[list] = [[key0, _ordered(trans0, 0), 0, 0]]
    on_path.add(key0)
    events = executions = 0
    states = 1
    poll_at = check_every
    try:
        while stack:
            frame = stack[-1]
            key, trans, i = frame[0], frame[1], frame[2]
            if i == len(trans):
                stack.pop()
                on_path.discard(key)
                if cache:
                    schedules[key] = frame[3]
                if stack:
                    stack[-1][3] += frame[3]
                else:
                    stats.schedules = frame[3]
                continue
            frame[2] = i + 1
            if executions == max_exec:
                raise OutOfBudget(f"--max-executions {max_exec} reached")
            t, v = trans[i]
            s = list(key)
            execute(s, t, v)
            events += 1
            if events >= poll_at:
                poll_at += check_every
                meter.poll(events, executions, states)
            if len(stack) >= max_steps:
                _check_steps(program, stack, max_steps)
            k2 = tuple(s)
            if cache:
                known = known_get(k2)
                if known is not None:
                    frame[3] += known
                    executions += 1
                    continue
            if k2 in on_path:
                cs = program.current(s, t)
                where = cs.step.label if cs else "its end"
                raise ModelError(
                    f"thread {program.threads[t].name} brings the system back to a state "
                    f"already on this execution (at step {where!r}): an execution can run "
                    "forever"
                )
            states += 1
            bad = failing_inv(s)
            if bad is not None:
                executions += 1  # the violating run counts, as any run that ends
                schedule = [f[1][f[2] - 1] for f in stack]
                raise Found(Failure(bad.name, bad.description), schedule)
            trans2 = transitions(s)
            if not trans2:
                executions += 1
                _leaf(program, s, [f[1][f[2] - 1] for f in stack], stats)
                frame[3] += 1
                if cache:
                    schedules[k2] = 1
                continue
            on_path.add(k2)
            stack.append([k2, _ordered(trans2, t), 0, 0])
    finally:
        stats.events, stats.executions, stats.states = events, executions, states


def _check_steps(program: Program, stack: list[list], max_steps: int) -> None:
    """A path this long may hold a thread that never finishes: count per thread."""
    counts: dict[int, int] = {}
    for f in stack:
        t = f[1][f[2] - 1][0]
        counts[t] = counts.get(t, 0) + 1
        if counts[t] > max_steps:
            raise ModelError(
                f"thread {program.threads[t].name} took more than {max_steps} steps in one "
                "execution: a step that never finishes (raise --max-steps if intended)"
            )


def _leaf(program: Program, s: list[int], schedule: list[Transition], stats: Stats) -> None:
    """A state where no thread can move: finished (check final properties) or deadlocked."""
    how, failure = end_of_run(program, s)
    stats.cut_off += how == CUT_OFF
    if failure is not None:
        raise Found(failure, schedule)
