"""The pytest plugin, loaded through its pytest11 entry point in a pytest of its own:
a wrong verdict fails with the readable report, an incomplete exploration is an error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from common import ROOT

TESTS = f'''
import pytest
import explorer

SPIN = {str(ROOT / "examples/spinlock.py")!r}

def test_holds():
    explorer.assert_holds(SPIN, memory_model="pso", cpus=3)

def test_fails():
    explorer.assert_holds(SPIN, mutant="split-cmpxchg")

def test_violated():
    out = explorer.assert_violated(SPIN, mutant="split-cmpxchg", property="mutual-exclusion")
    assert out.result.failure.name == "mutual-exclusion"

def test_not_violated():
    explorer.assert_violated(SPIN, mutant="plain-unlock", memory_model="tso")

def test_incomplete():
    explorer.assert_holds("guest_memfd", max_executions=2)

def test_bad_input():
    explorer.assert_holds(SPIN, cpus=99)

@pytest.mark.explorer(SPIN, mutant="plain-unlock", memory_model="pso", expect="violated",
                      property="no-lost-update")
def test_marker(explorer_outcome):
    assert explorer_outcome.result.verdict == "violated"

@pytest.mark.explorer(SPIN, mutant="plain-unlock", memory_model="pso")
def test_marker_fails():
    pass
'''


def _pytest(tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], str]:
    (tmp_path / "test_checks.py").write_text(TESTS)
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", "test_checks.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    return r, r.stdout


def _section(out: str, test: str) -> str:
    """The failure or error text pytest printed for one test."""
    start = out.index(f" {test} ")
    end = min(i for i in (out.find("\n___", start + 1), out.find("\n===", start + 1))
              if i > 0)
    return out[start:end]


def test_verdicts_as_test_outcomes(tmp_path: Path):
    r, out = _pytest(tmp_path)
    assert r.returncode == 1, out + r.stderr
    assert "4 failed, 3 passed, 1 error" in out, out[-2000:]
    for name in ("test_holds", "test_violated", "test_marker"):
        assert f"PASSED test_checks.py::{name}" in out
    for name in ("test_fails", "test_not_violated", "test_bad_input", "test_marker_fails"):
        assert f"FAILED test_checks.py::{name}" in out


def test_a_violation_fails_with_the_counterexample_not_a_traceback(tmp_path: Path):
    _, out = _pytest(tmp_path)
    text = _section(out, "test_fails")
    assert "spinlock: mutual-exclusion is violated" in text
    assert "Counterexample:" in text and "examples/spinlock.c:16" in text
    assert "Traceback" not in text and "explorer/testing.py" not in text
    assert "def test_fails" not in text
    marker = _section(out, "test_marker_fails")
    assert "no-lost-update is violated" in marker and "Counterexample:" in marker
    held = _section(out, "test_not_violated")
    assert "expected a violation, but it holds exhaustively" in held


def test_an_incomplete_exploration_is_an_error(tmp_path: Path):
    _, out = _pytest(tmp_path)
    assert "ERROR (exploration incomplete) test_checks.py::test_incomplete" in out
    text = _section(out, "test_incomplete")
    assert "exploration incomplete (neither holds nor violated)" in text
    assert "INCOMPLETE (nothing proved)" in text
