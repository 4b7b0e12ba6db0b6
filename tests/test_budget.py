"""Budgets: running out says INCOMPLETE (exit 3), and never turns a complete run incomplete."""

from __future__ import annotations

import json

import pytest

from explorer.api import check
from explorer.search.budget import Budget
from explorer.search.result import HOLDS, INCOMPLETE, VIOLATED

EXIT_INCOMPLETE = 3


def test_max_executions_cli_is_incomplete(run_cli):
    p = run_cli("check", "--max-executions", "5")
    assert p.returncode == EXIT_INCOMPLETE, p.stderr
    assert "INCOMPLETE" in p.stdout
    assert "HOLDS" not in p.stdout
    assert "VIOLATED" not in p.stdout
    assert "Traceback" not in p.stdout + p.stderr


def test_timeout_cli_is_incomplete(run_cli):
    p = run_cli("check", "--timeout", "0.05", "--strategy", "naive")
    assert p.returncode == EXIT_INCOMPLETE, p.stderr
    assert "INCOMPLETE" in p.stdout
    assert "HOLDS" not in p.stdout
    assert "timeout" in p.stdout


@pytest.mark.parametrize(
    "args",
    [["--max-executions", "5"], ["--timeout", "0.05", "--strategy", "naive"]],
    ids=["max-executions", "timeout"],
)
def test_incomplete_json(run_cli, args):
    p = run_cli("check", "--json", *args)
    assert p.returncode == EXIT_INCOMPLETE, p.stderr
    doc = json.loads(p.stdout)
    assert doc["verdict"] == INCOMPLETE
    assert doc["complete"] is False
    assert doc["property"] is None
    assert doc["trace"] is None and doc["schedule"] is None
    assert doc["reason"]
    if args[0] == "--max-executions":
        assert doc["executions"] == 5


SCENARIOS = [
    ("tiny", "stateful"),
    ("tiny", "naive"),
    ("default", "stateful"),
    ("faults", "stateful"),
    ("repeat", "stateful"),
    ("two-inodes", "stateful"),
]


@pytest.mark.parametrize(("scenario", "strategy"), SCENARIOS)
def test_execution_budget_boundary(run_check, scenario, strategy):
    full = run_check(scenario=scenario, strategy=strategy).result
    assert full.verdict == HOLDS
    n = full.stats.executions
    assert n >= 2
    for limit in (n, n + 1, 10 * n):
        r = check(scenario=scenario, strategy=strategy, budget=Budget(max_executions=limit)).result
        assert r.verdict == HOLDS, f"max_executions={limit} of {n}: {r.reason}"
        assert r.stats.executions == n
        assert r.stats.schedules == full.stats.schedules
    for limit in (n - 1, 1):
        r = check(scenario=scenario, strategy=strategy, budget=Budget(max_executions=limit)).result
        assert r.verdict == INCOMPLETE, f"max_executions={limit} of {n}"
        assert r.exit_code == EXIT_INCOMPLETE
        assert r.failure is None and r.schedule is None
        assert r.stats.executions == limit
        assert str(limit) in r.reason


@pytest.mark.parametrize("strategy", ["stateful", "naive"])
def test_generous_timeout_does_not_interrupt(run_check, strategy):
    full = run_check(scenario="tiny", strategy=strategy).result
    r = check(scenario="tiny", strategy=strategy, budget=Budget(timeout=3600.0)).result
    assert r.verdict == HOLDS
    assert r.stats.schedules == full.stats.schedules


def test_violation_within_budget_is_reported(run_check):
    """A budget large enough to reach the counterexample still yields it."""
    full = run_check(mutant="no-synchronize", strategy="stateful").result
    assert full.verdict == VIOLATED
    r = check(mutant="no-synchronize", strategy="stateful",
              budget=Budget(max_executions=10 * (full.stats.executions + 1))).result
    assert r.verdict == VIOLATED
    assert r.schedule == full.schedule


def _exhaustive_strategies() -> list[str]:
    """Strategies other than the two above that prove `holds` (random never does)."""
    from explorer.search import STRATEGIES

    out = []
    for name in STRATEGIES:
        if name in ("stateful", "naive"):
            continue
        if check(scenario="tiny", strategy=name).result.verdict == HOLDS:
            out.append(name)
    return out


_BOUNDARY_SCENARIOS = ("tiny", "small", "default", "faults", "repeat", "two-inodes")


def _boundary_cases() -> list:
    # graph takes 80 s over the four big scenarios (its dropped graphs): make test-long.
    return [
        pytest.param(st, sc, marks=pytest.mark.slow)
        if st == "graph" and sc not in ("tiny", "small") else (st, sc)
        for st in _exhaustive_strategies() for sc in _BOUNDARY_SCENARIOS
    ]


@pytest.mark.parametrize(("strategy", "scenario"), _boundary_cases())
def test_execution_budget_boundary_other_strategies(strategy, scenario):
    full = check(scenario=scenario, strategy=strategy).result
    assert full.verdict == HOLDS
    # The budget counts every run: complete, cut by a sleep set, or redundant.
    n = full.stats.executions + full.stats.sleep_blocked + full.stats.redundant
    r = check(scenario=scenario, strategy=strategy, budget=Budget(max_executions=n)).result
    assert r.verdict == HOLDS, f"{scenario}: {n} executions, budget {n} -> {r.verdict}"
