"""Limits on an exploration and progress reporting on long runs."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any

from tqdm import tqdm


@dataclass(frozen=True)
class Budget:
    max_executions: int | None = None
    timeout: float | None = None  # seconds
    max_steps: int = 10_000  # per thread and execution: more is a step that never finishes
    seed: int = 0  # for the random strategy


class OutOfBudget(Exception):
    """Raised inside a search; the search reports an incomplete result."""


class Meter:
    """Clock, budget checks and the optional progress bar, polled from the hot loop."""

    CHECK_EVERY = 1024

    def __init__(self, budget: Budget, progress: bool | None = None, label: str = ""):
        self.budget = budget
        self.start = time.perf_counter()
        show = sys.stderr.isatty() if progress is None else progress
        self.bar: Any = None
        if show:
            self.bar = tqdm(
                desc=label or "exploring", unit=" events", file=sys.stderr,
                leave=False, dynamic_ncols=True, mininterval=0.5,
            )
        self._last_events = 0

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def poll(self, events: int, executions: int, states: int) -> None:
        """Called every CHECK_EVERY events or so: budget and progress."""
        b = self.budget
        if b.timeout is not None and self.elapsed() > b.timeout:
            raise OutOfBudget(f"timeout of {b.timeout:g} s reached")
        if self.bar is not None:
            self.bar.update(events - self._last_events)
            self._last_events = events
            self.bar.set_postfix(executions=executions, states=states, refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
