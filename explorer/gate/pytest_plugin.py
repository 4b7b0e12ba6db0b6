"""The pytest plugin (entry point pytest11 `explorer`): checks as tests.

- `explorer.assert_holds(...)` / `explorer.assert_violated(...)` inside a test:
  a wrong verdict fails the test, and the failure text is the readable report
  with its counterexample (not a Python traceback); an exploration that ran
  out of budget is reported as an ERROR, neither passed nor failed.
- `@pytest.mark.explorer(model, scenario=..., expect="holds" | "violated",
  property=..., mutant=..., memory_model=..., srcu=..., **params)`: the test
  runs that check first; the `explorer_outcome` fixture gives its outcome.

Nothing of the engine is imported until a check runs.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

_CHECK_FAILED = "ExplorerCheckFailed"
_INCOMPLETE = "ExplorationIncomplete"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "explorer(model=None, scenario=None, expect='holds', property=None, **options): "
        "run an explorer check (explorer.assert_holds / assert_violated) before the test",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    marker = item.get_closest_marker("explorer")
    if marker is None:
        return
    import explorer  # its public API (explorer/testing.py), loaded when a check runs

    kwargs = dict(marker.kwargs)
    expect = kwargs.pop("expect", "holds")
    if expect not in ("holds", "violated"):
        raise pytest.UsageError(f"{item.nodeid}: explorer marker: expect must be 'holds' "
                                f"or 'violated', not {expect!r}")
    args = list(marker.args)
    if expect == "holds":
        if "property" in kwargs:
            raise pytest.UsageError(f"{item.nodeid}: explorer marker: property= goes with "
                                    "expect='violated'")
        out = explorer.assert_holds(*args, **kwargs)
    else:
        out = explorer.assert_violated(*args, **kwargs)
    item.stash[_OUTCOME] = out


_OUTCOME = pytest.StashKey[Any]()


@pytest.fixture
def explorer_outcome(request: pytest.FixtureRequest) -> Any:
    """The outcome of the test's @pytest.mark.explorer check (set when the test runs)."""

    class _Lazy:
        def __getattr__(self, name: str) -> Any:
            out = request.node.stash.get(_OUTCOME, None)
            if out is None:
                raise AttributeError("explorer_outcome: the test has no explorer marker")
            return getattr(out, name)

    return _Lazy()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    rep = yield
    exc = call.excinfo.value if call.excinfo is not None else None
    name = type(exc).__name__ if exc is not None else ""
    if name in (_CHECK_FAILED, _INCOMPLETE) and type(exc).__module__ == "explorer.testing":
        summary, text = getattr(exc, "summary", ""), getattr(exc, "report", "")
        # The failure text is the report explorer check prints, not a traceback.
        rep.longrepr = f"{summary}\n\n{text}" if text else summary
        if name == _INCOMPLETE:
            rep.user_properties.append(("explorer", "incomplete"))
    return rep


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config
                             ) -> tuple[str, str, str] | None:
    """An incomplete exploration is an error: nothing was proved or refuted."""
    if report.when == "call" and ("explorer", "incomplete") in report.user_properties:
        return "error", "E", "ERROR (exploration incomplete)"
    return None
