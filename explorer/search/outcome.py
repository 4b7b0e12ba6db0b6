"""What one check produced: the setup as asked, the search's result, and the
evidence a report draws from it (shared by the API, prove and the evidence room)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..compile.program import Program, State, StepRecord, Transition
from .result import EXIT_CODES, HOLDS, INCOMPLETE, Result

if TYPE_CHECKING:  # explain is in the evidence room, below this one
    from ..evidence.explain import Race


@dataclass(frozen=True)
class Setup:
    """Everything that identifies one check, as the user asked for it."""

    model: str
    scenario: str
    scenario_description: str
    values: Mapping[str, Any]
    mutant: str | None
    srcu: str
    memory_model: str
    source: str = ""  # a user's model: its file (absolute path) or module; "" built in
    uses_srcu: bool = True  # the model has SRCU (Family.has_srcu): the report names `srcu`
    read_against: str = ""  # what to read a counterexample against (Family.source)


@dataclass(frozen=True)
class CrossCheck:
    """The same program rerun with an independent strategy (check --cross-check)."""

    strategy: str
    verdict: str
    executions: int
    seconds: float
    # True: the same complete verdict; False: holds against violated, or the rerun
    # failed (then the outcome is an internal error); None: a run was incomplete.
    agree: bool | None
    reason: str = ""  # the rerun's: why it is incomplete, or its error


@dataclass
class Outcome:
    setup: Setup
    result: Result
    program: Program | None
    trace: list[StepRecord] | None = None
    final_state: State | None = None
    races: list[Race] | None = None  # with explain: the races that decided the violation
    shrunk: Shrunk | None = None  # a smaller model that still violates (final/deadlock)
    work: str = ""  # how the verdict was reached when not by exploration (explorer prove)
    cross: CrossCheck | None = None  # with cross_check

    @property
    def exit_code(self) -> int:
        """The verdict's, except that HOLDS is not cross-checked when the rerun ran out
        of budget: 3 (a violation stands: it was replayed)."""
        cross = self.cross
        if cross is not None and cross.verdict == INCOMPLETE and self.result.verdict == HOLDS:
            return EXIT_CODES[INCOMPLETE]
        return self.result.exit_code


@dataclass
class Shrunk:
    dropped: list[str]
    program: Program
    schedule: list[Transition]
    trace: list[StepRecord]
