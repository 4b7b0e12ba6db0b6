"""Exploration strategies over a compiled program."""

from __future__ import annotations

from collections.abc import Callable

from ..compile.program import Program
from .budget import Budget
from .dfs import explore
from .dpor import explore_dpor
from .random_walk import explore_random
from .result import Result

Strategy = Callable[[Program, Budget, bool | None], Result]

STRATEGIES: dict[str, tuple[str, Strategy]] = {
    "optimal": (
        "optimal DPOR with wakeup trees: each Mazurkiewicz trace once (default)",
        lambda p, b, pr: explore_dpor(p, optimal=True, budget=b, progress=pr),
    ),
    "dpor": (
        "source-set DPOR with sleep sets",
        lambda p, b, pr: explore_dpor(p, optimal=False, budget=b, progress=pr),
    ),
    "stateful": (
        "depth-first search with a visited-state cache",
        lambda p, b, pr: explore(p, cache=True, budget=b, progress=pr),
    ),
    "naive": (
        "every schedule, no caching: the brute-force oracle, for tiny scenarios",
        lambda p, b, pr: explore(p, cache=False, budget=b, progress=pr),
    ),
    "random": (
        "seeded random schedules for smoke runs; finds bugs, never proves",
        lambda p, b, pr: explore_random(p, budget=b, progress=pr),
    ),
}
DEFAULT_STRATEGY = "optimal"


def run(strategy: str, program: Program, budget: Budget, progress: bool | None = None) -> Result:
    return STRATEGIES[strategy][1](program, budget, progress)
