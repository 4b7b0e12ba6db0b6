"""Shared helpers: cached explorer runs (the naive strategy is slow) and a CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from hypothesis.configuration import set_hypothesis_home_dir

from explorer.api import Outcome, check
from explorer.budget import Budget
from explorer.expr import evaluate, variables
from explorer.program import Program, State
from explorer.result import DEADLOCK

ROOT = Path(__file__).resolve().parent.parent

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


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`python -m explorer ARGS` in a subprocess, from the repository root.

    `check` gets --no-schedule unless told where to write: a violation would
    otherwise leave a schedule file in the checkout (tests/test_replay.py
    covers writing them, in a temporary directory).
    """
    if args and args[0] == "check" and not {"--schedule-out", "--no-schedule"} & set(args):
        args = (*args, "--no-schedule")
    env = {k: v for k, v in os.environ.items() if k not in ("EXPLORER_DEBUG", "EXPLORER_CATALOG")}
    return subprocess.run(
        [sys.executable, "-m", "explorer", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


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
        return not program.finished(state) and not program.transitions(state)
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
