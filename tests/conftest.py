"""Shared helpers: cached explorer runs (the naive strategy is slow) and a CLI runner."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from common import cli
from hypothesis.configuration import set_hypothesis_home_dir

from explorer.api import Outcome, check
from explorer.compile.program import Program, State
from explorer.lang.expr import evaluate, variables
from explorer.search.budget import Budget
from explorer.search.result import DEADLOCK

# Hypothesis caches constants under ./.hypothesis; keep the checkout untouched.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "explorer-tests-hypothesis")

RunCheck = Callable[..., Outcome]
RunCli = Callable[..., subprocess.CompletedProcess[str]]

_CACHE: dict[tuple, Outcome] = {}


def cached_check(
    model: str | None = None,
    scenario: str | None = None,
    mutant: str | None = None,
    strategy: str = "stateful",
    settings: Mapping[str, str] | None = None,
) -> Outcome:
    """api.check with an unbounded budget, memoised for the whole session.

    Outcomes are treated as read-only by the tests.
    """
    key = (model, scenario, mutant, strategy, tuple(sorted((settings or {}).items())))
    if key not in _CACHE:
        _CACHE[key] = check(
            model=model,
            scenario=scenario,
            settings=dict(settings or {}),
            mutant=mutant,
            strategy=strategy,
            budget=Budget(),
        )
    return _CACHE[key]


@pytest.fixture(scope="session")
def run_check() -> RunCheck:
    return cached_check


@pytest.fixture(scope="session")
def run_cli() -> RunCli:
    return cli


def property_false_in(program: Program, state: State, name: str) -> bool:
    """Whether the property called ``name`` is false in ``state``.

    Judged by the reference interpreter and cross-checked against the compiled
    checks (failing_invariant / failing_final, which report the first failing
    property); deadlock-free is judged from the enabled steps.
    """
    if name == DEADLOCK:
        return (not program.finished(state) and not program.transitions(state)
                and not program.cut_off(state))
    prop = next(p for p in program.model.properties if p.name == name)
    values = {v: int(state[program.slot[v]]) for v in variables(prop.expr)}
    false_by_reference = evaluate(prop.expr, values) == 0
    if prop.kind == "final":
        if not program.finished(state):
            return False  # a final property says nothing about unfinished states
        failing = program.failing_final(state)
    else:
        failing = program.failing_invariant(state)
    if failing is not None and failing.name == name:
        assert false_by_reference, f"compiled check says {name} fails, reference disagrees"
    if false_by_reference:
        assert failing is not None, f"reference says {name} fails, compiled check disagrees"
    return false_by_reference


@pytest.fixture(scope="session")
def property_false() -> Callable[[Program, State, str], bool]:
    return property_false_in
