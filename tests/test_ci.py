"""`explorer ci`: suites, the gate's exit code, and the files it writes (JUnit parsed
back, SARIF validated against the official 2.1.0 schema, JSON, markdown)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from common import ROOT, cli
from junitparser import Error, Failure, JUnitXml, Skipped

SCHEMA = json.loads((ROOT / "tests/data/sarif-schema-2.1.0.json").read_text())
SPINLOCK = str(ROOT / "examples/spinlock.py")

GOOD = f"""
[suite]
name = "good"

[defaults]
timeout = 120

[[check]]
model = "guest_memfd"
scenario = "small"
memory_model = ["sc", "tso"]
expect = "holds"

[[check]]
model = "guest_memfd"
scenario = "small"
mutant = "no-synchronize"
expect = "violated"
property = "no-change-after-freeze"

[[check]]
model = "{SPINLOCK}"
mutant = "split-cmpxchg"
memory_model = ["sc", "pso"]
expect = "violated"
property = "mutual-exclusion"
"""

# One seeded wrong expectation: plain-unlock loses an update under PSO.
WRONG = GOOD + f"""
[[check]]
name = "seeded: plain-unlock under PSO"
model = "{SPINLOCK}"
mutant = "plain-unlock"
memory_model = "pso"
expect = "holds"
"""


def _suite(tmp_path: Path, text: str, name: str = "suite.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _run(tmp_path: Path, suite: Path, *extra: str):
    out = {k: tmp_path / f"r.{k}" for k in ("xml", "sarif", "json", "md")}
    r = cli("ci", str(suite), "--junit", str(out["xml"]), "--sarif", str(out["sarif"]),
            "--json", str(out["json"]), "--markdown", str(out["md"]), *extra, timeout=300)
    return r, out


def _validate_sarif(path: Path) -> dict:
    doc = json.loads(path.read_text())
    validator = jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
    return doc


def test_a_passing_suite_exits_0_and_writes_valid_files(tmp_path: Path):
    r, out = _run(tmp_path, _suite(tmp_path, GOOD))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "gate PASSED: 5 checks: 5 as expected" in r.stdout
    assert r.stdout.count("\nok   ") == 5
    sarif = _validate_sarif(out["sarif"])
    assert sarif["runs"][0]["results"] == []
    xml = JUnitXml.fromfile(str(out["xml"]))
    cases = [c for suite in xml for c in suite]
    assert len(cases) == 5 and all(not c.result for c in cases)
    doc = json.loads(out["json"].read_text())
    assert doc["passed"] is True and len(doc["checks"]) == 5
    assert {c["verdict"] for c in doc["checks"]} == {"holds", "violated"}
    assert out["md"].read_text().startswith("## explorer ci: passed")


def test_a_wrong_expectation_fails_with_the_counterexample_in_every_file(tmp_path: Path):
    r, out = _run(tmp_path, _suite(tmp_path, WRONG))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "FAIL seeded: plain-unlock under PSO: UNEXPECTED VIOLATION of no-lost-update" \
        in r.stdout
    assert "gate FAILED: 6 checks: 5 as expected, 1 unexpected verdicts" in r.stdout
    # JUnit: one failure, whose text is the readable report with the counterexample.
    xml = JUnitXml.fromfile(str(out["xml"]))
    cases = {c.name: c for suite in xml for c in suite}
    bad = cases["seeded: plain-unlock under PSO"]
    assert len(bad.result) == 1 and isinstance(bad.result[0], Failure)
    text = bad.result[0].text
    assert "VIOLATED no-lost-update" in text and "Counterexample:" in text
    assert "examples/spinlock.c:22" in text
    assert sum(bool(c.result) for c in cases.values()) == 1
    # SARIF: one result, ruleId the property, one threadFlow per thread of the run,
    # every step at its source line with its place in the whole run.
    sarif = _validate_sarif(out["sarif"])
    (res,) = sarif["runs"][0]["results"]
    assert res["ruleId"] == "no-lost-update"
    rules = sarif["runs"][0]["tool"]["driver"]["rules"]
    assert rules[res["ruleIndex"]]["id"] == "no-lost-update"
    flows = res["codeFlows"][0]["threadFlows"]
    names = {f["id"] for f in flows}
    assert {"cpu0", "cpu1"} <= names
    orders = sorted(loc["executionOrder"] for f in flows for loc in f["locations"])
    assert orders == list(range(1, len(orders) + 1))
    cpu = [loc for f in flows if f["id"] == "cpu1" for loc in f["locations"]]
    uris = {loc["location"]["physicalLocation"]["artifactLocation"]["uri"] for loc in cpu}
    assert uris == {"examples/spinlock.c"}
    assert all(loc["location"]["physicalLocation"]["region"]["startLine"] > 0 for loc in cpu)
    # JSON and markdown carry it too.
    doc = json.loads(out["json"].read_text())
    (failed,) = [c for c in doc["checks"] if not c["ok"]]
    assert failed["property"] == "no-lost-update" and failed["counterexample"]
    md = out["md"].read_text()
    assert md.startswith("## explorer ci: FAILED") and "Counterexample:" in md


def test_the_sarif_log_is_the_same_on_every_run(tmp_path: Path):
    suite = _suite(tmp_path, WRONG)
    first = tmp_path / "a.sarif"
    second = tmp_path / "b.sarif"
    assert cli("ci", str(suite), "--sarif", str(first), timeout=300).returncode == 1
    assert cli("ci", str(suite), "--sarif", str(second), "--jobs", "2",
               timeout=300).returncode == 1
    assert first.read_text() == second.read_text()


def test_jobs_give_the_same_results_in_the_same_order(tmp_path: Path):
    suite = _suite(tmp_path, WRONG)
    docs = []
    for jobs in ("1", "2"):
        path = tmp_path / f"j{jobs}.json"
        cli("ci", str(suite), "--json", str(path), "--jobs", jobs, timeout=300)
        docs.append([(c["id"], c["verdict"], c["status"], c["executions"])
                     for c in json.loads(path.read_text())["checks"]])
    assert docs[0] == docs[1] and len(docs[0]) == 6


INCOMPLETE = """
[[check]]
model = "guest_memfd"
scenario = "default"
expect = "holds"
max_executions = 3
"""


def test_out_of_budget_fails_the_gate_unless_allowed(tmp_path: Path):
    r, out = _run(tmp_path, _suite(tmp_path, INCOMPLETE))
    assert r.returncode == 1 and "INCOMPLETE (expected holds)" in r.stdout
    sarif = _validate_sarif(out["sarif"])
    assert [x["ruleId"] for x in sarif["runs"][0]["results"]] == ["incomplete"]
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    r, out = _run(allowed, _suite(allowed, INCOMPLETE + "allow_incomplete = true\n"))
    assert r.returncode == 0, r.stdout
    (case,) = [c for s in JUnitXml.fromfile(str(out["xml"])) for c in s]
    assert isinstance(case.result[0], Skipped)


def test_a_check_that_cannot_run_is_an_error(tmp_path: Path):
    suite = _suite(tmp_path, '[[check]]\nmodel = "guest_memfd"\nmutant = "nope"\n'
                             'expect = "violated"\n')
    r, out = _run(tmp_path, suite)
    assert r.returncode == 1 and "ERR " in r.stdout and "unknown mutant 'nope'" in r.stdout
    (case,) = [c for s in JUnitXml.fromfile(str(out["xml"])) for c in s]
    assert isinstance(case.result[0], Error)
    _validate_sarif(out["sarif"])


@pytest.mark.parametrize(("text", "cause"), [
    ("[[check]]\nmodel = 'guest_memfd'\nexpect = 'holds'\nbogus = 1\n", "unknown key 'bogus'"),
    ("[[check]]\nmodel = 'guest_memfd'\nexpect = 'fine'\n", "expect must be holds or violated"),
    ("[[check]]\nexpect = 'holds'\n", "no model"),
    ("[[check]]\nmodel = 'guest_memfd'\n", "expect must be"),
    ("[[check\n", "not valid TOML"),
    ("[suite]\nname = 'x'\n", "no [[check]] entries"),
    ("[[check]]\nmodel = 'guest_memfd'\nexpect = 'holds'\ntimeout = -1\n", "timeout must be"),
    ("[[check]]\nmodel = 'guest_memfd'\nexpect = 'holds'\nproperty = 'x'\n",
     "only with expect"),
    ("[[check]]\nmodel = 'guest_memfd'\nexpect = 'holds'\n[[check]]\nmodel = 'guest_memfd'\n"
     "expect = 'holds'\n", "two checks are both"),
])
def test_a_bad_suite_is_one_line_and_runs_nothing(tmp_path: Path, text: str, cause: str):
    suite = _suite(tmp_path, text)
    r = cli("ci", str(suite))
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stdout == "" and len(r.stderr.strip().splitlines()) == 1
    assert str(suite) in r.stderr and cause in r.stderr, r.stderr


def test_output_files_are_checked_first_and_never_overwritten(tmp_path: Path):
    suite = _suite(tmp_path, GOOD)
    mine = tmp_path / "mine.xml"
    mine.write_text("my own file")
    r = cli("ci", str(suite), "--junit", str(mine))
    assert r.returncode == 2 and "file exists" in r.stderr and r.stdout == ""
    assert mine.read_text() == "my own file"
    r = cli("ci", str(suite), "--sarif", str(tmp_path / "no/such/dir/x.sarif"))
    assert r.returncode == 2 and "no folder" in r.stderr and r.stdout == ""
    r = cli("ci", str(suite), "--junit", str(mine), "--force", timeout=300)
    assert r.returncode == 0 and mine.read_text().startswith("<")


def test_a_report_that_cannot_be_written_keeps_the_answer(tmp_path: Path):
    from explorer.gate import writers

    failed = writers.write_all([], [], 0.0, None, str(tmp_path / "gone" / "x.sarif"),
                               None, None)
    assert failed and failed[0][0] == "--sarif"


def test_markdown_appends_to_the_github_step_summary(tmp_path: Path, monkeypatch):
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n")
    suite = _suite(tmp_path, GOOD)
    import os
    import subprocess
    import sys

    env = {**os.environ, "GITHUB_STEP_SUMMARY": str(summary),
           "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-m", "explorer", "ci", str(suite), "--markdown",
                        str(summary)], capture_output=True, text=True, env=env, cwd=ROOT,
                       timeout=300, check=False)
    assert r.returncode == 0, r.stderr
    text = summary.read_text()
    assert text.startswith("# earlier step\n") and "## explorer ci: passed" in text


def test_artifacts_hold_each_findings_schedule_and_graph(tmp_path: Path):
    art = tmp_path / "art"
    r = cli("ci", str(_suite(tmp_path, WRONG)), "--artifacts", str(art), timeout=300)
    assert r.returncode == 1
    files = sorted(p.suffix for p in art.iterdir())
    assert files == [".html", ".json"]
    (sched,) = art.glob("*.json")
    r = cli("replay", str(sched), cwd=tmp_path)
    assert r.returncode == 1 and "VIOLATED no-lost-update" in r.stdout
