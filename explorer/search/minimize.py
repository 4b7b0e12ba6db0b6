"""The easiest counterexample to read: fewest context switches, then fewest events.

A search that finds a violation first reports whichever interleaving it met
first. This module looks, among all interleavings that violate the same
property, for the one with the fewest context switches (a switch is an event
of a different thread than the event before it), breaking ties by the number
of events: Dijkstra's algorithm over (state, last thread), bounded in states
so that it never costs more than a small fraction of a check.
"""

from __future__ import annotations

import heapq
from dataclasses import replace
from itertools import count

from ..compile.program import Program, Transition
from ..lang.model import Model, Thread
from .common import failure_in

DEFAULT_STATE_LIMIT = 200_000


def violates(program: Program, s: list[int], target: str) -> bool:
    """Whether `target` is the property that fails in state s (deadlock: none can move)."""
    failure = failure_in(program, s)
    return failure is not None and failure.name == target


def fewest_switches(
    program: Program, target: str, state_limit: int = DEFAULT_STATE_LIMIT,
    steps_first: bool = False,
) -> list[Transition] | None:
    """A violating schedule of `target` with the fewest context switches, or None
    if none is found within `state_limit` states (the caller keeps its own).
    With `steps_first`: the fewest steps (the shortest), then fewest switches."""
    s0 = program.initial_state()
    if violates(program, s0, target):
        return []
    start = (tuple(s0), -1)
    best: dict[tuple[tuple[int, ...], int], tuple[int, int]] = {start: (0, 0)}
    parent: dict[tuple[tuple[int, ...], int], tuple[tuple[tuple[int, ...], int], Transition]] = {}
    tie = count()
    heap = [(0, 0, next(tie), start)]

    def rank(switches: int, events: int) -> tuple[int, int]:
        return (events, switches) if steps_first else (switches, events)

    while heap:
        first, second, _, node = heapq.heappop(heap)
        if best.get(node, (first, second)) < (first, second):
            continue  # a cheaper way here was found after this entry was queued
        switches, events = (second, first) if steps_first else (first, second)
        key, last = node
        s = list(key)
        if node is not start and violates(program, s, target):
            out: list[Transition] = []
            while node in parent:
                node, tr = parent[node]
                out.append(tr)
            return out[::-1]
        if program.failing_invariant(s) is not None:
            continue  # another property failed first on this path
        for t, v in program.transitions(s):
            s2 = list(s)
            program.execute(s2, t, v)
            nxt = (tuple(s2), t)
            cost = rank(switches + (last not in (-1, t)), events + 1)
            if cost < best.get(nxt, (1 << 62, 0)):
                if len(best) >= state_limit:
                    return None
                best[nxt] = cost
                parent[nxt] = (node, (t, v))
                heapq.heappush(heap, (cost[0], cost[1], next(tie), nxt))
    return None


def context_switches(schedule: list[Transition]) -> int:
    return sum(1 for a, b in zip(schedule, schedule[1:], strict=False) if a[0] != b[0])


def shrink(
    model: Model, target: str, state_limit: int = DEFAULT_STATE_LIMIT
) -> tuple[Program, list[Transition], list[str]] | None:
    """Drops threads, then trailing operations, while `target` can still be violated.

    For a property that fails only when the run ends (a final property, a
    deadlock) every thread of the counterexample runs to its end, so the
    threads it does not need must be removed from the model to be seen.
    Returns the smaller program, its easiest violating schedule and what was
    dropped, or None when nothing can go.
    """
    threads = list(model.threads)
    dropped: list[str] = []
    best: tuple[Program, list[Transition]] | None = None

    def attempt(candidate: list[Thread]) -> tuple[Program, list[Transition]] | None:
        # A store buffer's flusher goes with the last thread running on its CPU.
        homes = {t.home for t in candidate if not t.daemon}
        candidate = [t for t in candidate if not t.daemon or t.cpu in homes]
        program = Program(replace(model, threads=tuple(candidate)))
        schedule = fewest_switches(program, target, state_limit)
        return None if schedule is None else (program, schedule)

    for th in list(threads):
        if sum(not t.daemon for t in threads) == 1:
            break
        if th.daemon:
            continue  # a store buffer's flusher: without it stores never reach memory
        rest = [t for t in threads if t is not th]
        found = attempt(rest)
        if found is not None:
            threads, best = rest, found
            dropped.append(f"thread {th.name}")
    for k, th in enumerate(threads):
        while len(th.ops) > 1:
            shorter = replace(th, ops=th.ops[:-1])
            found = attempt(threads[:k] + [shorter] + threads[k + 1:])
            if found is None:
                break
            dropped.append(f"{th.name}'s last operation {th.ops[-1].name}")
            th = threads[k] = shorter
            best = found
    if best is None:
        return None
    return best[0], best[1], dropped
