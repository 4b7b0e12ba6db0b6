"""Each thread's control flow as the compiled Program numbers it, and its longest run.

A program counter is the index of a step in ThreadCode.steps; an operation's
return jumps to the next operation's entry, the last one's to THREAD_DONE.
The longest execution counts events, as the explorer does: the steps that
are not local on a thread's longest path (a local step runs inside the event
of the step before it, in the explorer and in the BMC encoding alike).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..compile.program import THREAD_DONE, Program
from ..lang.model import DONE, Switch


@dataclass(frozen=True)
class ThreadFlow:
    """pc numbering of one thread: label -> pc per operation, and each step's successors."""

    exits: tuple[int, ...]  # per operation: the pc its return jumps to
    targets: tuple[tuple[int, ...], ...]  # per pc: the pcs its `next` can name, in order

    def successors(self, pc: int) -> tuple[int, ...]:
        return self.targets[pc]


def thread_flow(program: Program, t: int) -> ThreadFlow:
    code = program.threads[t]
    thread = program.model.threads[t]
    pcs = {(cs.op_index, cs.step.label): pc for pc, cs in enumerate(code.steps)}
    exits = tuple(
        pcs[(k + 1, thread.ops[k + 1].entry)] if k + 1 < len(thread.ops) else THREAD_DONE
        for k in range(len(thread.ops))
    )
    targets = []
    for cs in code.steps:
        labels = cs.step.next.labels() if isinstance(cs.step.next, Switch) else [cs.step.next]
        targets.append(tuple(
            exits[cs.op_index] if label == DONE else pcs[(cs.op_index, label)]
            for label in labels
        ))
    return ThreadFlow(exits, tuple(targets))


@dataclass(frozen=True)
class Longest:
    """The longest execution in steps, or None with the loop that makes it unbounded."""

    steps: int | None
    per_thread: tuple[int | None, ...]
    loop: str = ""  # "thread T, step S" of a step that can run again


def longest_execution(program: Program) -> Longest:
    per: list[int | None] = []
    loop = ""
    for t in range(len(program.threads)):
        n, where = _longest_thread(program, t)
        if n is None and not loop:
            loop = where
        per.append(n)
    total = None if any(n is None for n in per) else sum(n for n in per if n is not None)
    return Longest(total, tuple(per), loop)


def _longest_thread(program: Program, t: int) -> tuple[int | None, str]:
    """Events on thread t's longest path to its end, or None and where it loops.
    A daemon with a known bound runs at most that many steps; a retry step is
    never taken, so a path ends there."""
    code = program.threads[t]
    bound = program.model.threads[t].bound
    if code.daemon and bound:
        return bound, ""
    flow = thread_flow(program, t)
    memo: dict[int, int] = {}
    on_path: set[int] = set()
    cycle: list[int] = []

    def longest_from(pc: int) -> int | None:
        # Recursion depth is the number of steps of a thread: a few hundred at most.
        if pc == THREAD_DONE:
            return 0
        if pc in memo:
            return memo[pc]
        if pc in on_path:
            cycle.append(pc)
            return None
        if code.steps[pc].step.retry:
            return 0
        on_path.add(pc)
        best = 0
        for nxt in set(flow.successors(pc)):
            n = longest_from(nxt)
            if n is None:
                return None
            best = max(best, n)
        on_path.discard(pc)
        memo[pc] = best + (0 if code.steps[pc].local else 1)
        return memo[pc]

    n = longest_from(code.entry)
    where = f"thread {code.name}, step {code.steps[cycle[0]].step.label!r}" if cycle else ""
    return n, where
