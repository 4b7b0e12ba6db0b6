"""Named proofs about a model's data (``explorer prove --spec NAME``).

A proof spec lives in specs/ (the engine knows none of them): a name, a one-line
description, and a function that asks z3 its questions and returns the
answers as lines of text plus the evidence (z3's example inputs) as JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..search.result import EXIT_CODES, HOLDS


@dataclass
class SpecResult:
    verdict: str  # holds: every claim proved; violated: z3 refuted one (see lines)
    lines: list[str]  # the report, one claim or finding per line
    evidence: dict[str, Any] = field(default_factory=dict)  # z3 models, as JSON
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    @property
    def proved(self) -> bool:
        return self.verdict == HOLDS


@dataclass(frozen=True)
class ProofSpec:
    name: str
    description: str
    run: Callable[[], SpecResult]
