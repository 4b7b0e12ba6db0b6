"""`explorer check --cross-check`: the verdict rerun with an independent strategy."""

from __future__ import annotations

import json

import pytest

from explorer import cli
from explorer.api import cross_strategy
from explorer.search import STRATEGIES
from explorer.search.result import ERROR, VIOLATED, Failure, Result, Stats


def _last(text: str) -> str:
    return text.strip().splitlines()[-1]


@pytest.mark.parametrize(("args", "code", "verdict", "second"), [
    ([], 0, "holds", "stateful"),
    (["--mutant", "no-synchronize"], 1, "violated", "stateful"),
    (["--strategy", "stateful"], 0, "holds", "optimal"),
    (["--strategy", "dpor", "--mutant", "check-before-lock"], 1, "violated", "stateful"),
], ids=["default", "mutant", "stateful", "dpor-mutant"])
def test_agreement_keeps_the_exit_code(run_cli, args, code, verdict, second):
    p = run_cli("check", "--cross-check", *args)
    assert p.returncode == code, p.stderr
    assert p.stderr == ""
    line = _last(p.stdout)
    assert line.startswith(f"cross-check: strategy {second} agrees ({verdict}; "), line
    assert " executions in " in line


def test_json_field(run_cli):
    doc = json.loads(run_cli("check", "--json", "--cross-check").stdout)
    assert doc["verdict"] == "holds"
    cross = doc["cross_check"]
    assert set(cross) == {"strategy", "verdict", "executions", "seconds", "agree"}
    assert cross["strategy"] == "stateful" and cross["verdict"] == "holds"
    assert cross["agree"] is True and cross["executions"] > 0 and cross["seconds"] >= 0
    assert json.loads(run_cli("check", "--json").stdout)["cross_check"] is None


def test_second_run_out_of_budget(run_cli):
    """optimal needs 222 executions on the default scenario, stateful 5,803."""
    p = run_cli("check", "--cross-check", "--max-executions", "300")
    assert p.returncode == 3, p.stderr
    assert "HOLDS exhaustively" in p.stdout
    assert "strategy stateful is incomplete" in p.stdout and "holds is not confirmed" in p.stdout
    doc = json.loads(run_cli("check", "--cross-check", "--max-executions", "300",
                             "--json").stdout)
    assert doc["cross_check"]["verdict"] == "incomplete" and doc["cross_check"]["agree"] is None
    # a violation stands: it was replayed
    p = run_cli("check", "--cross-check", "--max-executions", "300", "--strategy", "dpor",
                "--mutant", "no-synchronize")
    assert p.returncode == 1, p.stderr
    assert "the violation stands" in p.stdout


def _fake(verdict: str) -> tuple[str, object]:
    def strategy(program: object, budget: object, progress: object) -> Result:
        failure = Failure("no-change-after-freeze", "fake") if verdict == VIOLATED else None
        reason = "fake model error" if verdict == ERROR else ""
        return Result(verdict, "stateful", Stats(executions=7), failure, [(0, None)], reason)
    return "a strategy that is wrong", strategy


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_disagreement_is_an_internal_error(monkeypatch, capsys, as_json):
    monkeypatch.setitem(STRATEGIES, "stateful", _fake(VIOLATED))
    code = cli.main(["check", "--cross-check", "--no-schedule", *(["--json"] if as_json else [])])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""  # never a verdict
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert "internal" in lines[0] and "cross-check failed" in lines[0]
    assert "strategy optimal says holds" in lines[0]
    assert "strategy stateful says violated (no-change-after-freeze)" in lines[0]


def test_disagreement_on_a_violation(monkeypatch, capsys):
    monkeypatch.setitem(STRATEGIES, "optimal", _fake(VIOLATED))  # stateful is checked by it
    code = cli.main(["check", "--cross-check", "--strategy", "stateful",
                     "--mutant", "no-synchronize", "--no-schedule"])
    out, err = capsys.readouterr()
    assert code == 1 and "agrees (violated" in out, (out, err)  # both violated: agreement
    monkeypatch.setitem(STRATEGIES, "optimal", _fake("holds"))
    code = cli.main(["check", "--cross-check", "--strategy", "stateful",
                     "--mutant", "no-synchronize", "--no-schedule"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert "strategy stateful says violated" in err and "strategy optimal says holds" in err


def test_second_run_error_is_an_internal_error(monkeypatch, capsys):
    monkeypatch.setitem(STRATEGIES, "stateful", _fake(ERROR))
    code = cli.main(["check", "--cross-check", "--no-schedule"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and "says error (fake model error)" in err


def test_cross_strategy():
    assert cross_strategy("stateful") == "optimal"
    for s in ("optimal", "dpor", "naive", "random"):
        assert cross_strategy(s) == "stateful"
