"""Limits on an exploration and progress reporting on long runs."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .checkpoint import Checkpointer


@dataclass(frozen=True)
class Budget:
    # Both count over the whole run: a resumed run (explorer.search.checkpoint)
    # includes the executions and seconds of the segments before it.
    max_executions: int | None = None
    timeout: float | None = None  # seconds
    max_steps: int = 10_000  # per thread and execution: more is a step that never finishes
    seed: int = 0  # for the random strategy
    # graph: one graph per orbit of symmetric threads; stateful: states cached up to
    # swapping them (explorer/compile/symmetry.py)
    symmetry: bool = False


class OutOfBudget(Exception):
    """Raised inside a search; the search reports an incomplete result."""


class Meter:
    """Clock, budget checks and the optional progress bar, polled from the hot loop."""

    CHECK_EVERY = 1024

    def __init__(self, budget: Budget, progress: bool | None = None, label: str = "",
                 checkpoint: Checkpointer | None = None):
        self.budget = budget
        self.ckpt = checkpoint
        # A resumed run's clock goes on from the segments before it.
        earlier = checkpoint.stats.seconds if checkpoint is not None else 0.0
        self.start = time.perf_counter() - earlier
        # due: the search should call ckpt.safe_point at its next safe point;
        # stop: why it must stop there (a signal or a timeout, with a checkpoint).
        self.due = checkpoint is not None and checkpoint.testing
        self.stop = ""
        self._last_events = checkpoint.stats.events if checkpoint is not None else 0
        show = sys.stderr.isatty() if progress is None else progress
        self.bar: Any = None
        if show:
            from tqdm import tqdm  # here: its import is a third of the explorer's start-up

            self.bar = tqdm(
                desc=label or "exploring", unit=" events", file=sys.stderr,
                leave=False, dynamic_ncols=True, mininterval=0.5, initial=self._last_events,
            )

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def poll(self, events: int, executions: int, states: int) -> bool:
        """Called every CHECK_EVERY events or so: budget, progress, and whether a
        checkpoint is due. With a checkpoint a timeout does not raise here, in the
        middle of a step, but at the next safe point, after saving."""
        b = self.budget
        if b.timeout is not None and self.elapsed() > b.timeout:
            if self.ckpt is None:
                raise OutOfBudget(f"timeout of {b.timeout:g} s reached")
            self.stop = self.stop or f"timeout of {b.timeout:g} s reached"
        if self.ckpt is not None and (self.stop or self.ckpt.time_due()):
            self.due = True
        if self.bar is not None:
            self.bar.update(events - self._last_events)
            self._last_events = events
            self.bar.set_postfix(executions=executions, states=states, refresh=False)
        return self.due

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
