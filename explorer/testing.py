"""`explorer.assert_holds(...)` and `explorer.assert_violated(...)`: checks as test
assertions (the pytest plugin, explorer/gate/pytest_plugin.py, shows their failures
as the readable report, and an incomplete exploration as an error).

    import explorer

    def test_spinlock():
        explorer.assert_holds("examples/spinlock.py", memory_model="pso", cpus=3)

    def test_the_mutant_is_caught():
        explorer.assert_violated("examples/spinlock.py", mutant="split-cmpxchg",
                                 property="mutual-exclusion")

Keyword arguments that are not options are the model's parameters (`--set`);
a parameter whose name is not a Python identifier goes in `settings={...}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import api
from .evidence import report
from .search.budget import Budget
from .search.outcome import Outcome
from .search.result import ERROR, HOLDS, INCOMPLETE, VIOLATED


class ExplorerCheckFailed(AssertionError):
    """The check did not get the verdict the test asserts; `report` is what
    `explorer check` prints (the counterexample, for a violation)."""

    def __init__(self, summary: str, report_text: str, outcome: Outcome):
        super().__init__(summary)
        self.summary = summary
        self.report = report_text
        self.outcome = outcome


class ExplorationIncomplete(Exception):
    """The budget ran out: nothing is proved, and nothing refuted either."""

    def __init__(self, summary: str, report_text: str, outcome: Outcome):
        super().__init__(summary)
        self.summary = summary
        self.report = report_text
        self.outcome = outcome


class ExplorationError(Exception):
    """The check could not run: bad input, a model error, or a tool error."""


def _run(model: str | None, scenario: str | None, mutant: str | None, memory_model: str,
         srcu: str, strategy: str, max_executions: int | None, timeout: float | None,
         properties: list[str] | None, settings: Mapping[str, Any] | None,
         params: Mapping[str, Any]) -> Outcome:
    values = {k: _text(v) for k, v in {**(settings or {}), **params}.items()}
    try:
        out = api.check(model, scenario, values, mutant, strategy,
                        Budget(max_executions, timeout), srcu, memory_model, progress=False,
                        properties=properties)
    except Exception as err:
        raise ExplorationError(f"explorer: {err}") from None
    if out.result.verdict == ERROR:
        raise ExplorationError(f"explorer: {out.result.reason}")
    if out.result.verdict == INCOMPLETE:
        raise ExplorationIncomplete(
            f"exploration incomplete (neither holds nor violated): {out.result.reason}",
            report.text(out), out)
    return out


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ",".join(str(x) for x in value)
    return str(value)


def assert_holds(model: str | None = None, scenario: str | None = None, *,
                 mutant: str | None = None, memory_model: str = "sc", srcu: str = "abstract",
                 strategy: str = "optimal", max_executions: int | None = None,
                 timeout: float | None = None, properties: list[str] | None = None,
                 settings: Mapping[str, Any] | None = None, **params: Any) -> Outcome:
    """Every property holds, exhaustively; else ExplorerCheckFailed with the
    counterexample (ExplorationIncomplete when a budget ran out)."""
    out = _run(model, scenario, mutant, memory_model, srcu, strategy, max_executions,
               timeout, properties, settings, params)
    r = out.result
    if r.verdict == VIOLATED:
        assert r.failure is not None
        raise ExplorerCheckFailed(
            f"{out.setup.model}: {r.failure.name} is violated: {r.failure.description}",
            report.text(out), out)
    return out


def assert_violated(model: str | None = None, scenario: str | None = None, *,
                    property: str | None = None, mutant: str | None = None,
                    memory_model: str = "sc", srcu: str = "abstract",
                    strategy: str = "optimal", max_executions: int | None = None,
                    timeout: float | None = None, settings: Mapping[str, Any] | None = None,
                    **params: Any) -> Outcome:
    """Some property (`property`, when given: that one, checked alone) is violated;
    returns the outcome with its counterexample. ExplorerCheckFailed when every
    property holds exhaustively."""
    out = _run(model, scenario, mutant, memory_model, srcu, strategy, max_executions,
               timeout, [property] if property else None, settings, params)
    r = out.result
    if r.verdict == HOLDS:
        want = f"a violation of {property}" if property else "a violation"
        raise ExplorerCheckFailed(
            f"{out.setup.model}: expected {want}, but it holds exhaustively "
            f"({r.stats.executions:,} executions)", report.text(out), out)
    return out


__all__ = ["ExplorationError", "ExplorationIncomplete", "ExplorerCheckFailed",
           "assert_holds", "assert_violated"]
