"""Depth-first exploration: `naive` (every schedule) and `stateful` (visited-state cache).

Both run the same loop; `stateful` keeps, for every fully explored state, the
number of complete schedules below it, so a revisited state is not explored
again but still counted: its `schedules` figure equals what `naive` would
enumerate. States on the current path are tracked to report cycles (an
execution that can run forever) as a model error.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from functools import partial
from typing import Any

from ..compile.program import Program, Transition
from ..compile.symmetry import NOTHING, symmetry
from ..lang.model import ModelError
from .budget import Budget, Meter, OutOfBudget
from .checkpoint import Checkpointer, Corrupt
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
    checkpoint: Checkpointer | None = None,
) -> Result:
    if cache and budget.symmetry and progress is not False and symmetry(program).trivial:
        print(NOTHING, file=sys.stderr)
    return conclude(
        "stateful" if cache else "naive", program, budget, progress,
        lambda meter, stats: _run(program, cache, budget, meter, stats), checkpoint,
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
    # schedules[key]: complete schedules below a fully explored state (stateful only),
    # keyed up to swapping symmetric threads with --symmetry: a state and its mirror
    # have mirrored executions below them, as many, with the same verdicts.
    schedules: dict[tuple[int, ...], int] = {}
    canon = None
    if cache and budget.symmetry:
        sym = symmetry(program)
        canon = sym.canonical()
        stats.symmetric = sum(len(g) for g in sym.groups)
    known_get = schedules.get
    on_path: set[tuple[int, ...]] = set()
    key0 = tuple(s0)
    trans0 = transitions(s0)
    if not trans0:  # nothing to interleave: never checkpointed
        stats.executions = stats.schedules = stats.states = 1
        _leaf(program, s0, [], stats)
        return
    # frame: [key, transitions, next index, schedules below]
    stack: list[list] = [[key0, _ordered(trans0, 0), 0, 0]]
    events = executions = 0
    states = 1
    ck = meter.ckpt
    if ck is not None and ck.resumed is not None:
        stack, cached = ck.decode(partial(_restore, program, cache))
        schedules.update(cached)
        events, executions, states = stats.events, stats.executions, stats.states
    on_path.update(f[0] for f in stack)
    # One test per transition for the rare things: a poll, the execution budget, the
    # test hook that interrupts a run (checkpoint.Plan.interrupt_after).
    stops = [x for x in (max_exec, ck.plan.interrupt_after if ck else None)
             if x is not None and x >= 0]
    stop_at = min(stops, default=-1)
    poll_at = events + check_every
    try:
        while stack:
            frame = stack[-1]
            key, trans, i = frame[0], frame[1], frame[2]
            if i == len(trans):
                stack.pop()
                on_path.discard(key)
                if cache:
                    schedules[key if canon is None else canon(key)] = frame[3]
                if stack:
                    stack[-1][3] += frame[3]
                else:
                    stats.schedules = frame[3]
                continue
            if events >= poll_at or executions == stop_at:
                # A safe point: the frames say exactly what is left to explore.
                snap = partial(_snapshot, stack, schedules if cache else None, stats,
                               events, executions, states)
                if executions == max_exec:
                    if ck is None:
                        raise OutOfBudget(f"--max-executions {max_exec} reached")
                    ck.halt(meter, f"--max-executions {max_exec} reached", snap)
                if events >= poll_at:
                    poll_at += check_every
                    meter.poll(events, executions, states)
                if ck is not None and meter.due:
                    ck.safe_point(meter, snap, executions)
            frame[2] = i + 1
            t, v = trans[i]
            s = list(key)
            execute(s, t, v)
            events += 1
            if len(stack) >= max_steps:
                _check_steps(program, stack, max_steps)
            k2 = tuple(s)
            if cache:
                known = known_get(k2 if canon is None else canon(k2))
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
                    schedules[k2 if canon is None else canon(k2)] = 1
                continue
            on_path.add(k2)
            stack.append([k2, _ordered(trans2, t), 0, 0])
    finally:
        stats.events, stats.executions, stats.states = events, executions, states


def _snapshot(
    stack: list[list], schedules: dict[tuple[int, ...], int] | None, stats: Stats,
    events: int, executions: int, states: int,
) -> tuple[dict[str, Any], Stats]:
    """The search at the top of its loop: per frame the next transition's index and
    the schedules counted below it (the states follow by replay), and the cache."""
    state = {
        "frames": [[f[2], f[3]] for f in stack],
        "cache": None if schedules is None else [[list(k), n] for k, n in schedules.items()],
    }
    return state, replace(stats, events=events, executions=executions, states=states)


def _restore(
    program: Program, cache: bool, saved: dict[str, Any]
) -> tuple[list[list], dict[tuple[int, ...], int]]:
    """Rebuilds the stack of a snapshot by replaying each frame's transition."""
    frames = saved["frames"]
    if not frames or (saved["cache"] is None) == cache:
        raise Corrupt("no frames" if not frames else "cache does not match the strategy")
    s = program.initial_state()
    last = 0
    stack: list[list] = []
    for depth, (i, below) in enumerate(frames):
        if depth:
            parent = stack[-1]
            last, v = parent[1][parent[2] - 1]
            s = list(parent[0])
            program.execute(s, last, v)
        trans = _ordered(program.transitions(s), last)
        top = depth == len(frames) - 1
        if not trans or not (0 if top else 1) <= i <= len(trans) or int(below) < 0:
            raise Corrupt(f"frame {depth} does not fit the program")
        stack.append([tuple(s), trans, int(i), int(below)])
    cached = {tuple(k): int(n) for k, n in saved["cache"] or ()}
    return stack, cached


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
