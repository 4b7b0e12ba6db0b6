"""Exploration strategies over a compiled program."""

from __future__ import annotations

from collections.abc import Callable

from ..compile.program import Program
from ..lang.family import BadInput
from .budget import Budget
from .checkpoint import RESUMABLE, Checkpointer
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


def run(strategy: str, program: Program, budget: Budget, progress: bool | None = None,
        checkpoint: Checkpointer | None = None) -> Result:
    if checkpoint is None:
        return STRATEGIES[strategy][1](program, budget, progress)
    check_resumable(strategy)
    if checkpoint.ident.get("strategy") != strategy:  # its file would not say what it holds
        raise ValueError(f"a checkpoint for strategy {checkpoint.ident.get('strategy')}, "
                         f"not {strategy}")
    if strategy in ("optimal", "dpor"):
        return explore_dpor(program, optimal=strategy == "optimal", budget=budget,
                            progress=progress, checkpoint=checkpoint)
    return explore(program, cache=strategy == "stateful", budget=budget, progress=progress,
                   checkpoint=checkpoint)


def check_resumable(strategy: str) -> None:
    if strategy not in RESUMABLE:
        raise BadInput(f"strategy {strategy} cannot be checkpointed (--checkpoint and --resume "
                       f"work with {', '.join(RESUMABLE)})")
