"""Exploration strategies over a compiled program."""

from __future__ import annotations

from collections.abc import Callable

from ..budget import Budget
from ..program import Program
from ..result import Result
from .dfs import explore

Strategy = Callable[[Program, Budget, bool | None], Result]

STRATEGIES: dict[str, tuple[str, Strategy]] = {
    "stateful": (
        "depth-first search with a visited-state cache; exhaustive (default)",
        lambda p, b, pr: explore(p, cache=True, budget=b, progress=pr),
    ),
    "naive": (
        "every schedule, no caching: the brute-force oracle, for tiny scenarios",
        lambda p, b, pr: explore(p, cache=False, budget=b, progress=pr),
    ),
}
DEFAULT_STRATEGY = "stateful"


def run(strategy: str, program: Program, budget: Budget, progress: bool | None = None) -> Result:
    return STRATEGIES[strategy][1](program, budget, progress)
