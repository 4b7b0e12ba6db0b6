"""Schedule files: written on every violation, replayed deterministically by `explorer replay`."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path

import pytest
from common import cli
from explorer.models.guest_memfd import MUTANTS

from explorer import api
from explorer.evidence import schedule
from explorer.lang.family import BadInput
from explorer.lang.model import ModelError

MUTANT_NAMES = [m.name for m in MUTANTS]


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m explorer ARGS` with `cwd` as the current directory (never the checkout)."""
    return cli(*args, cwd=cwd)


def counterexample(text: str) -> list[str]:
    """The report from the counterexample's threads line to the end of the Why lines."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("threads: "))
    end = next((i for i, line in enumerate(lines) if line.startswith("schedule: ")), len(lines))
    return [line for line in lines[start:end] if line.strip()]


def schedule_line(text: str) -> str:
    last = text.rstrip().splitlines()[-1]
    assert last.startswith("schedule: ") and "(replay with: explorer replay " in last, last
    return last.split()[1]


def one_error_line(p: subprocess.CompletedProcess[str]) -> str:
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    assert "Traceback" not in p.stderr
    lines = p.stderr.splitlines()
    assert len(lines) == 1, p.stderr
    return lines[0]


@pytest.mark.parametrize("strategy", ["optimal", "stateful"])
@pytest.mark.parametrize("mutant", MUTANT_NAMES)
def test_check_writes_and_replay_reproduces(tmp_path, mutant, strategy):
    p = run(tmp_path, "check", "--mutant", mutant, "--strategy", strategy)
    assert p.returncode == 1, p.stderr
    path = schedule_line(p.stdout)
    assert path == f"counterexamples/guest_memfd-default-{mutant}.json"
    assert (tmp_path / path).is_file()
    doc = json.loads((tmp_path / path).read_text())
    assert doc["mutant"] == mutant and doc["strategy"] == strategy and doc["schema"] == 1
    r = run(tmp_path, "replay", path)
    assert r.returncode == 1, r.stderr
    assert r.stderr == ""
    assert counterexample(r.stdout) == counterexample(p.stdout)
    assert f"VIOLATED {doc['property']}" in r.stdout
    j = run(tmp_path, "replay", path, "--json")
    assert j.returncode == 1
    out = json.loads(j.stdout)
    assert out["verdict"] == "violated" and out["property"]["name"] == doc["property"]
    assert out["schedule_file"] == path
    assert [s["thread"] for s in out["trace"] if not s["fused"]] == [
        s["thread"] for s in doc["steps"]
    ]


def test_json_check_reports_schedule_file(tmp_path):
    p = run(tmp_path, "check", "--json", "--mutant", "no-synchronize")
    assert p.returncode == 1
    doc = json.loads(p.stdout)
    assert doc["schedule_file"] == "counterexamples/guest_memfd-default-no-synchronize.json"
    assert (tmp_path / doc["schedule_file"]).is_file()
    p = run(tmp_path, "check", "--json", "--mutant", "no-synchronize", "--no-schedule")
    assert json.loads(p.stdout)["schedule_file"] is None
    assert len(list((tmp_path / "counterexamples").iterdir())) == 1


def test_no_file_when_it_holds(tmp_path):
    p = run(tmp_path, "check", "--scenario", "default")
    assert p.returncode == 0, p.stderr
    assert "schedule:" not in p.stdout
    assert not (tmp_path / "counterexamples").exists()


def test_default_naming_never_overwrites(tmp_path):
    first = run(tmp_path, "check", "--mutant", "no-synchronize")
    second = run(tmp_path, "check", "--mutant", "no-synchronize")
    a, b = schedule_line(first.stdout), schedule_line(second.stdout)
    assert a == "counterexamples/guest_memfd-default-no-synchronize.json"
    assert b == "counterexamples/guest_memfd-default-no-synchronize-2.json"
    assert (tmp_path / a).read_text() == (tmp_path / b).read_text()


def test_schedule_out_refuses_existing_file(tmp_path):
    target = tmp_path / "mine.json"
    target.write_text("precious")
    p = run(tmp_path, "check", "--mutant", "no-synchronize", "--schedule-out", "mine.json")
    assert "mine.json" in one_error_line(p)
    assert target.read_text() == "precious"
    p = run(tmp_path, "check", "--mutant", "no-synchronize", "--schedule-out", "out/new.json")
    assert p.returncode == 1
    assert schedule_line(p.stdout) == "out/new.json"
    assert schedule.load(tmp_path / "out" / "new.json").mutant == "no-synchronize"
    assert not (tmp_path / "counterexamples").exists()


# -- the file format ----------------------------------------------------------------


@pytest.fixture(scope="module")
def violation() -> api.Outcome:
    return api.check(mutant="check-before-lock", strategy="stateful")


def test_round_trip(tmp_path, violation):
    sf = schedule.from_outcome(violation)
    assert sf.property == violation.result.failure.name
    assert len(sf.steps) == len(violation.result.schedule)
    assert all(isinstance(v, str) for v in sf.parameters.values())
    path = schedule.save(sf, tmp_path / "s.json")
    back = schedule.load(path)
    assert back == sf and back.source == str(path)
    assert json.loads(path.read_text()) == sf.to_json()
    with pytest.raises(BadInput, match="already exists"):
        schedule.save(sf, path)
    again = api.replay_schedule(back)
    assert again.result.verdict == "violated"
    assert again.result.failure == violation.result.failure
    assert again.trace == violation.trace


def test_from_outcome_needs_a_violation():
    with pytest.raises(ValueError):
        schedule.from_outcome(api.check(scenario="default"))


# -- tampered files -------------------------------------------------------------------


@pytest.fixture
def saved(tmp_path) -> tuple[Path, dict]:
    p = run(tmp_path, "check", "--mutant", "unlock-before-alloc", "--schedule-out", "s.json")
    assert p.returncode == 1
    path = tmp_path / "s.json"
    return path, json.loads(path.read_text())


def _tamper(path: Path, doc: object) -> subprocess.CompletedProcess[str]:
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    return run(path.parent, "replay", path.name)


def test_changed_label(saved):
    path, doc = saved
    doc["steps"][2]["step"] = "no_such_label"
    line = one_error_line(_tamper(path, doc))
    assert "diverges at step 3" in line and "no_such_label" in line


def test_renamed_thread(saved):
    path, doc = saved
    doc["steps"][1]["thread"] = "ghost7"
    line = one_error_line(_tamper(path, doc))
    assert "step 2" in line and "ghost7" in line and "s.json" in line


def test_extra_step_after_the_end(saved):
    path, doc = saved
    n = len(doc["steps"])
    doc["steps"].append(dict(doc["steps"][-1]))
    doc["events"] = n + 1  # consistent: the replay finds the step after the end
    line = one_error_line(_tamper(path, doc))
    assert f"step {n + 1}" in line


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (lambda text, doc: text[: len(text) // 2], "not valid JSON"),
        (lambda text, doc: {k: v for k, v in doc.items() if k != "model"}, "'model'"),
        (lambda text, doc: {**doc, "steps": {"thread": "x"}}, "'steps'"),
        (lambda text, doc: {**doc, "schema": 99}, "schema 99"),
        (lambda text, doc: {**doc, "steps": [{"thread": "x"}]}, "step 1"),
        (lambda text, doc: [1, 2], "not a JSON object"),
        (lambda text, doc: {**doc, "mutant": "nonesuch"}, "nonesuch"),
    ],
    ids=["truncated", "missing-key", "steps-not-list", "schema", "bad-step", "array",
         "unknown-mutant"],
)
def test_bad_file(saved, change, needle):
    path, doc = saved
    line = one_error_line(_tamper(path, change(path.read_text(), doc)))
    assert needle in line and "s.json" in line


def test_missing_file(tmp_path):
    line = one_error_line(run(tmp_path, "replay", "nothere.json"))
    assert "nothere.json" in line


# -- a changed model ------------------------------------------------------------------


def _walk(doc: dict) -> int | None:
    """Independently of replay: the first step (1-based) where the correct model
    does not have the recorded thread at the recorded, enabled step, else None."""
    _, program = api.prepare(doc["model"], doc["scenario"], doc["parameters"], None)
    index = {t.name: i for i, t in enumerate(program.threads)}
    s = program.initial_state()
    for i, st in enumerate(doc["steps"], 1):
        t, v = index[st["thread"]], st["choice"]
        cs = program.current(s, t)
        if cs is None or cs.step.label != st["step"] or (t, v) not in program.transitions(s):
            return i
        if i < len(doc["steps"]) and program.failing_invariant(s) is not None:
            return i
        program.execute(s, t, v)
    return None


@pytest.mark.parametrize("mutant", MUTANT_NAMES)
def test_against_the_correct_model(tmp_path, mutant):
    p = run(tmp_path, "check", "--mutant", mutant, "--schedule-out", "s.json")
    assert p.returncode == 1
    path = tmp_path / "s.json"
    doc = json.loads(path.read_text())
    doc["mutant"] = None
    path.write_text(json.dumps(doc))
    r = run(tmp_path, "replay", "s.json")
    diverges = _walk(doc)
    if diverges is None:
        assert r.returncode == 0, (r.stdout, r.stderr)
        assert "NOT REPRODUCED" in r.stdout and r.stderr == ""
    else:
        line = one_error_line(r)
        assert f"schedule diverges at step {diverges}:" in line


def test_divergence_is_a_model_error(violation):
    sf = schedule.from_outcome(violation)
    bad = list(sf.steps)
    bad[0] = schedule.ScheduleStep(bad[0].thread, bad[0].choice, "elsewhere", bad[0].line)
    changed = dataclasses.replace(sf, steps=tuple(bad))
    with pytest.raises(ModelError, match=r"diverges at step 1: expected .* at elsewhere"):
        api.replay_schedule(changed)


def _cut(tmp_path, violation, keep: int, **changes) -> str:
    """The violation's schedule file with only its first `keep` steps (and `changes`)."""
    doc = schedule.from_outcome(violation).to_json()
    doc["steps"] = doc["steps"][:keep]
    doc.update(changes)
    path = tmp_path / "cut.json"
    path.write_text(json.dumps(doc))
    return "cut.json"


def test_a_schedule_file_cut_short_is_refused(tmp_path, violation):
    """Its events say how many steps it had: fewer is exit 2, never NOT REPRODUCED."""
    n = len(violation.result.schedule)
    p = run(tmp_path, "replay", _cut(tmp_path, violation, n - 1))
    assert "cut short" in one_error_line(p)


def test_a_final_or_deadlock_schedule_ending_while_threads_run_is_refused(tmp_path, violation):
    """Without the events count (older files), a run for a property judged at the end
    (here deadlock-free) that stops while threads can move is cut short: exit 2."""
    n = len(violation.result.schedule)
    name = _cut(tmp_path, violation, n // 2, property="deadlock-free", events=None)
    p = run(tmp_path, "replay", name)
    assert "cut short" in one_error_line(p)
