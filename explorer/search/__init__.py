"""Exploration strategies over a compiled program."""

from __future__ import annotations

from collections.abc import Callable

from ..compile.program import Program
from ..lang.family import BadInput
from .budget import Budget
from .checkpoint import RESUMABLE, Checkpointer
from .result import Result

Strategy = Callable[[Program, Budget, bool | None], Result]


# The engines load when one runs, not with the CLI (start-up time).
def _dpor(p: Program, b: Budget, pr: bool | None, optimal: bool) -> Result:
    from .dpor import explore_dpor

    return explore_dpor(p, optimal=optimal, budget=b, progress=pr)


def _dfs(p: Program, b: Budget, pr: bool | None, cache: bool) -> Result:
    from .dfs import explore

    return explore(p, cache=cache, budget=b, progress=pr)


def _graph(p: Program, b: Budget, pr: bool | None) -> Result:
    from .graph import explore_graph

    return explore_graph(p, budget=b, progress=pr)


def _random(p: Program, b: Budget, pr: bool | None) -> Result:
    from .random_walk import explore_random

    return explore_random(p, budget=b, progress=pr)


STRATEGIES: dict[str, tuple[str, Strategy]] = {
    "optimal": (
        "optimal DPOR with wakeup trees: each Mazurkiewicz trace once (default)",
        lambda p, b, pr: _dpor(p, b, pr, optimal=True),
    ),
    "dpor": (
        "source-set DPOR with sleep sets",
        lambda p, b, pr: _dpor(p, b, pr, optimal=False),
    ),
    "stateful": (
        "depth-first search with a visited-state cache",
        lambda p, b, pr: _dfs(p, b, pr, cache=True),
    ),
    "naive": (
        "every schedule, no caching: the brute-force oracle, for tiny scenarios",
        lambda p, b, pr: _dfs(p, b, pr, cache=False),
    ),
    "graph": (
        "execution graphs (TruSt), each once, TSO/PSO as predicates: slower than optimal today",
        _graph,
    ),
    "random": (
        "seeded random schedules for smoke runs; finds bugs, never proves",
        _random,
    ),
}
DEFAULT_STRATEGY = "optimal"
# The strategies --symmetry reduces (explorer/compile/symmetry.py).
SYMMETRIC = ("graph", "stateful")


def run(strategy: str, program: Program, budget: Budget, progress: bool | None = None,
        checkpoint: Checkpointer | None = None) -> Result:
    if checkpoint is None:
        return STRATEGIES[strategy][1](program, budget, progress)
    check_resumable(strategy)
    if checkpoint.ident.get("strategy") != strategy:  # its file would not say what it holds
        raise ValueError(f"a checkpoint for strategy {checkpoint.ident.get('strategy')}, "
                         f"not {strategy}")
    from .dfs import explore
    from .dpor import explore_dpor

    if strategy in ("optimal", "dpor"):
        return explore_dpor(program, optimal=strategy == "optimal", budget=budget,
                            progress=progress, checkpoint=checkpoint)
    return explore(program, cache=strategy == "stateful", budget=budget, progress=progress,
                   checkpoint=checkpoint)


def check_resumable(strategy: str) -> None:
    if strategy not in RESUMABLE:
        raise BadInput(f"strategy {strategy} cannot be checkpointed (--checkpoint and --resume "
                       f"work with {', '.join(RESUMABLE)})")
