"""What an exploration concludes, independent of strategy."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..compile.program import Transition

HOLDS = "holds"
VIOLATED = "violated"
INCOMPLETE = "incomplete"
ERROR = "error"

EXIT_CODES = {HOLDS: 0, VIOLATED: 1, ERROR: 2, INCOMPLETE: 3}


@dataclass(frozen=True)
class Failure:
    """The property that failed and, for deadlocks, who was stuck where."""

    name: str
    description: str
    detail: str = ""


DEADLOCK = "deadlock-free"
DEADLOCK_TEXT = (
    "no reachable state where some thread has not returned and no thread can take a step"
)


@dataclass
class Stats:
    executions: int = 0  # runs taken to their end (or to a state already explored)
    schedules: int = 0  # distinct complete schedules the exploration accounts for
    states: int = 0  # distinct states visited (stateful) or states entered
    events: int = 0  # transitions executed
    seconds: float = 0.0
    sleep_blocked: int = 0  # DPOR runs cut short because every enabled thread slept
    deadlocked: int = 0  # executions that ended with threads blocked on a guard
    redundant: int = 0  # DPOR runs that repeated an execution of an earlier choice oracle
    cut_off: int = 0  # runs that ended waiting at a retry another run covers (Program.cut_off)
    dropped: int = 0  # graph strategy: graphs grown that are not executions (search/graph.py)
    symmetric: int = 0  # --symmetry: threads explored up to swapping them (0: none found)

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0

    @property
    def states_per_second(self) -> float:
        return self.states / self.seconds if self.seconds > 0 else 0.0


@dataclass
class Result:
    verdict: str
    strategy: str
    stats: Stats
    failure: Failure | None = None
    schedule: list[Transition] | None = None  # the violating run, as choices
    reason: str = ""  # why incomplete, or the model error
    properties: list[str] = field(default_factory=list)  # what was checked
    minimal: bool = False  # schedule has the fewest context switches of any violating one
    checkpoint: str | None = None  # incomplete: the checkpoint file it can be resumed from

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]
