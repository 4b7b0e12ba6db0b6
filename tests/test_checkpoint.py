"""Checkpoint and resume (explorer.search.checkpoint, check --checkpoint/--resume).

- Random programs of every shape (tests/langgen.py): a run stopped after k
  executions (as a signal stops it, and by --max-executions), resumed, stopped
  again, ..., resumed to the end, has every total of an uninterrupted run (all
  of Stats but seconds), its verdict, violation and schedule, and in collect
  mode its outcomes: optimal, dpor, stateful, naive. Since the resumed run
  starts from the saved totals, equal totals also say it explored nothing twice.
- The CLI: a run killed with SIGKILL part-way and resumed ends as an
  uninterrupted one; SIGINT/SIGTERM print INCOMPLETE (and the JSON object),
  exit 3, and leave a checkpoint that resumes to the same end.
- Budgets count the whole run; bad resume files are one line on stderr, exit 2.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import langgen
import pytest
from common import ROOT, cli

from explorer import api
from explorer.compile.lowering import lower
from explorer.compile.program import Program
from explorer.lang.family import BadInput
from explorer.lang.model import ModelError
from explorer.search import checkpoint as ckpt
from explorer.search.budget import Budget
from explorer.search.checkpoint import Checkpointer, Plan, identity
from explorer.search.dfs import explore
from explorer.search.dpor import Outcomes, explore_dpor
from explorer.search.result import HOLDS, INCOMPLETE, VIOLATED, Result

STRATEGIES = ("optimal", "dpor", "stateful", "naive")
NEVER = 1e9  # a save interval no test reaches: only stops save


def totals(r: Result) -> dict[str, int]:
    d = asdict(r.stats)
    d.pop("seconds")
    return d


UNBOUNDED = Budget()


def search(strategy: str, program: Program, plan: Plan | None = None,
           budget: Budget = UNBOUNDED, outcomes: Outcomes | None = None) -> Result:
    ck = None
    if plan is not None:
        ck = Checkpointer(plan, identity(program, strategy, budget.max_steps,
                                         collect=outcomes is not None))
    if strategy in ("optimal", "dpor"):
        return explore_dpor(program, optimal=strategy == "optimal", budget=budget,
                            outcomes=outcomes, checkpoint=ck)
    return explore(program, cache=strategy == "stateful", budget=budget, checkpoint=ck)


def budgeted(r: Result) -> int:
    """What --max-executions counts (DPOR: blocked and redundant runs too)."""
    st = r.stats
    return st.executions + st.sleep_blocked + st.redundant


def chained(strategy: str, program: Program, stops: list[int], how: str, path: Path,
            collect: bool = False) -> tuple[Result, Outcomes | None, int]:
    """Stops the run at each of `stops` executions in turn (`how`: "signal", at the
    first safe point as SIGINT does, or "budget", --max-executions), resuming each
    time from the checkpoint; then resumes to the end. Returns the last run, its
    outcomes, and how many segments were stopped."""
    resume = None
    stopped = 0
    for k in stops:
        outcomes = Outcomes() if collect else None
        plan = Plan(str(path), NEVER, resume, interrupt_after=k if how == "signal" else None)
        budget = Budget(max_executions=k) if how == "budget" else Budget()
        r = search(strategy, program, plan, budget, outcomes)
        if r.verdict != INCOMPLETE:  # it ended before k
            return r, outcomes, stopped
        assert r.checkpoint == str(path), r.reason
        assert str(path) in r.reason
        assert (r.stats.executions if how == "signal" else budgeted(r)) == k, r.reason
        stopped += 1
        resume = str(path)
    outcomes = Outcomes() if collect else None
    r = search(strategy, program, Plan(str(path), NEVER, resume), Budget(), outcomes)
    assert r.verdict != INCOMPLETE, r.reason
    assert not path.exists(), "a complete run leaves no checkpoint"
    return r, outcomes, stopped


def _programs(per_shape: int) -> list[tuple[str, Program]]:
    """Programs of every shape class with a few executions to cut (weak ones under TSO,
    where the store buffers interleave too)."""
    out = []
    for shape in langgen.SHAPES:
        found = 0
        for i in range(60):
            spec = langgen.soak_spec(23, shape, i)
            if spec.refuse:
                continue
            try:
                program = Program(lower(spec.m, "tso") if shape == "weak" else spec.m)
            except ModelError:
                continue
            full = explore_dpor(program, optimal=True, budget=Budget(), outcomes=Outcomes())
            if full.stats.executions >= 4:
                out.append((f"{shape}-{i}", program))
                found += 1
                if found == per_shape:
                    break
    return out


PROGRAMS = _programs(3)


def _stops(n: int) -> list[int]:
    return sorted({1, max(1, n // 3), max(1, n // 2), max(1, n - 1), n})


def _compare(full: Result, got: Result, what: str) -> None:
    assert got.verdict == full.verdict, what
    assert totals(got) == totals(full), what
    if full.verdict == VIOLATED:
        assert full.failure is not None and got.failure is not None
        assert got.failure.name == full.failure.name, what
        assert got.schedule == full.schedule, what


def test_programs_drawn() -> None:
    shapes = {name.rsplit("-", 1)[0] for name, _ in PROGRAMS}
    assert len(shapes) >= len(langgen.SHAPES) - 1, shapes


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("how", ["signal", "budget"])
def test_resumed_random_programs_end_as_uninterrupted(strategy: str, how: str,
                                                      tmp_path: Path) -> None:
    cut = 0
    verdicts = set()
    for name, program in PROGRAMS:
        full = search(strategy, program)
        n = full.stats.executions if how == "signal" else budgeted(full)
        got, _, stopped = chained(strategy, program, _stops(n), how, tmp_path / "c.json")
        _compare(full, got, f"{name} {strategy} {how}")
        cut += stopped
        verdicts.add(full.verdict)
    assert cut >= len(PROGRAMS), "the runs were hardly ever stopped: nothing tested"
    assert verdicts == {HOLDS, VIOLATED}


@pytest.mark.parametrize("strategy", ["optimal", "dpor"])
@pytest.mark.parametrize("how", ["signal", "budget"])
def test_resumed_collect_mode_reaches_the_same_outcomes(strategy: str, how: str,
                                                        tmp_path: Path) -> None:
    for name, program in PROGRAMS:
        want = Outcomes()
        full = search(strategy, program, outcomes=want)
        n = full.stats.executions if how == "signal" else budgeted(full)
        got, outcomes, stopped = chained(strategy, program, _stops(n), how,
                                         tmp_path / "c.json", collect=True)
        assert stopped, name
        _compare(full, got, f"{name} {strategy} {how}")
        assert outcomes == want, name


def test_guest_memfd_resumed_from_every_kind_of_point(tmp_path: Path) -> None:
    """A bigger program (oracles for the choices, long wakeup trees) cut at many points."""
    _, program = api.prepare(settings={"get_folio": "3"})
    for strategy in ("optimal", "dpor", "stateful"):
        full = search(strategy, program)
        n = full.stats.executions
        stops = [1, n // 7, n // 2, n - 2]
        for how in ("signal", "budget"):
            got, _, stopped = chained(strategy, program, stops, how, tmp_path / "c.json")
            assert stopped == len(stops), (strategy, how)
            _compare(full, got, f"{strategy} {how}")


def test_periodic_saves_leave_the_search_alone_and_each_resumes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Saving at every poll (the clock's safe points, as --checkpoint-every does) and
    going on changes nothing; a run resumed from any of those saves (what a SIGKILL
    leaves) ends as the uninterrupted one."""
    _, program = api.prepare(settings={"get_folio": "3"})
    path = tmp_path / "c.json"
    saves: list[str] = []
    write = ckpt.write_atomically

    def recording(target: str, *parts: str) -> None:
        saves.append("".join(parts))
        write(target, *parts)

    monkeypatch.setattr(ckpt, "write_atomically", recording)
    for strategy in ("optimal", "dpor", "stateful"):
        saves.clear()
        full = search(strategy, program)
        _compare(full, search(strategy, program, Plan(str(path), every=0)), strategy)
        assert len(saves) >= 5, strategy
        for text in (saves[0], saves[len(saves) // 2], saves[-1]):
            path.write_text(text)
            got = search(strategy, program, Plan(str(path), NEVER, str(path)))
            _compare(full, got, strategy)


# -- budgets count the whole run ------------------------------------------------------


def test_max_executions_counts_earlier_segments(tmp_path: Path) -> None:
    path = str(tmp_path / "c.json")
    full = api.check(settings={"get_folio": "3"}).result
    first = api.check(settings={"get_folio": "3"}, budget=Budget(max_executions=100),
                      checkpoint=Plan(path)).result
    assert (first.verdict, first.stats.executions, first.checkpoint) == (INCOMPLETE, 100, path)
    second = api.check(settings={"get_folio": "3"}, budget=Budget(max_executions=250),
                       checkpoint=Plan(path, resume=path)).result
    assert (second.verdict, second.stats.executions) == (INCOMPLETE, 250)
    assert "--max-executions 250 reached" in second.reason
    last = api.check(settings={"get_folio": "3"}, checkpoint=Plan(path, resume=path)).result
    assert last.verdict == HOLDS and totals(last) == totals(full)
    assert last.checkpoint is None and not os.path.exists(path)


def _edit_header(path: str, **changes: Any) -> None:
    doc = json.loads(Path(path).read_text())
    doc.update(changes)
    Path(path).write_text(json.dumps(doc))


def test_timeout_counts_earlier_segments(tmp_path: Path) -> None:
    """A checkpoint that says 1000 s were spent: a resumed run with --timeout 500 stops
    at its first safe point (per segment it would run to the end)."""
    path = str(tmp_path / "c.json")
    for strategy in ("optimal", "stateful"):
        api.check(settings={"get_folio": "3"}, strategy=strategy,
                  checkpoint=Plan(path, interrupt_after=5))
        _edit_header(path, seconds=1000.0)
        r = api.check(settings={"get_folio": "3"}, strategy=strategy,
                      budget=Budget(timeout=500), checkpoint=Plan(path, resume=path)).result
        assert r.verdict == INCOMPLETE and "timeout of 500 s" in r.reason, r.reason
        assert r.stats.seconds >= 1000 and r.checkpoint == path
        done = api.check(settings={"get_folio": "3"}, strategy=strategy,
                         checkpoint=Plan(path, resume=path)).result
        assert done.verdict == HOLDS
        assert totals(done) == totals(api.check(settings={"get_folio": "3"},
                                                strategy=strategy).result)


def test_resume_to_another_file_leaves_the_first(tmp_path: Path) -> None:
    first, second = str(tmp_path / "a.json"), str(tmp_path / "b.json")
    api.check(checkpoint=Plan(first, interrupt_after=10))
    before = Path(first).read_bytes()
    r = api.check(checkpoint=Plan(second, resume=first, interrupt_after=20)).result
    assert r.checkpoint == second and r.stats.executions == 20
    assert Path(first).read_bytes() == before
    assert json.loads(Path(second).read_text())["segments"] == 2


def test_atomic_write_keeps_the_old_file_when_a_save_fails(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "c.json"
    target.write_text("old")

    def broken(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ckpt.os, "replace", broken)
    with pytest.raises(OSError):
        ckpt.write_atomically(str(target), "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["c.json"]  # no temporary file left


def test_a_failed_save_is_one_line_and_the_search_goes_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(ckpt, "write_atomically", lambda *_: (_ for _ in ()).throw(
        OSError(28, "No space left on device")))
    r = api.check(checkpoint=Plan(str(tmp_path / "c.json"), interrupt_after=10)).result
    assert r.verdict == INCOMPLETE and r.checkpoint is None
    assert "could not be saved" in r.reason
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No space left on device" in err


# -- the command line ---------------------------------------------------------------

# Runs of one to three seconds, a checkpoint every EVERY seconds.
BIG = {"optimal": ("--scenario", "repeat", "--set", "get_folio=2"),
       "dpor": ("--scenario", "repeat", "--set", "get_folio=2"),
       "stateful": ("--set", "get_folio=4")}
EVERY = "0.2"
KEYS = ("verdict", "executions", "schedules", "states", "events", "sleep_blocked",
        "deadlocked", "redundant", "cut_off")


def _popen(*args: str, cwd: Path) -> subprocess.Popen[str]:
    """`python -m explorer ARGS` in the background (as common.cli runs it)."""
    env = {k: v for k, v in os.environ.items() if k not in ("EXPLORER_DEBUG", "EXPLORER_CATALOG")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.Popen([sys.executable, "-m", "explorer", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(path: Path, proc: subprocess.Popen[str]) -> None:
    """Until the first checkpoint is there (the run is well under way)."""
    deadline = time.monotonic() + 120  # against a hang, not a timing assertion
    while not path.exists():
        assert proc.poll() is None, f"the run ended before its first checkpoint: {proc.stderr}"
        assert time.monotonic() < deadline, "no checkpoint written"
        time.sleep(0.05)


_UNINTERRUPTED: dict[str, dict[str, Any]] = {}


def uninterrupted(strategy: str) -> dict[str, Any]:
    if strategy not in _UNINTERRUPTED:
        p = cli("check", *BIG[strategy], "--strategy", strategy, "--json", timeout=300)
        assert p.returncode == 0, p.stderr
        _UNINTERRUPTED[strategy] = json.loads(p.stdout)
    return _UNINTERRUPTED[strategy]


def _resume(strategy: str, path: Path) -> dict[str, Any]:
    p = cli("check", *BIG[strategy], "--strategy", strategy, "--resume", str(path), "--json",
            timeout=300)
    assert p.returncode == 0, p.stderr
    assert not path.exists(), "a complete run leaves no checkpoint"
    doc = json.loads(p.stdout)
    assert doc["checkpoint"] is None
    return doc


@pytest.mark.parametrize("strategy", ["optimal", "dpor", "stateful"])
def test_killed_run_resumes_to_the_uninterrupted_totals(strategy: str, tmp_path: Path) -> None:
    path = tmp_path / "run.ckpt"
    proc = _popen("check", *BIG[strategy], "--strategy", strategy, "--checkpoint", str(path),
                  "--checkpoint-every", EVERY, "--json", "--no-schedule", cwd=tmp_path)
    try:
        _wait_for(path, proc)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    saved = json.loads(path.read_text())
    want = uninterrupted(strategy)
    assert 0 < saved["stats"]["executions"] < want["executions"], "nothing left to resume"
    got = _resume(strategy, path)
    assert {k: got[k] for k in KEYS} == {k: want[k] for k in KEYS}


@pytest.mark.parametrize(("strategy", "sig", "as_json"),
                         [("optimal", signal.SIGINT, True), ("stateful", signal.SIGTERM, False)])
def test_signal_saves_reports_incomplete_and_resumes(strategy: str, sig: signal.Signals,
                                                     as_json: bool, tmp_path: Path) -> None:
    path = tmp_path / "run.ckpt"
    out = ["--json"] if as_json else []
    proc = _popen("check", *BIG[strategy], "--strategy", strategy, "--checkpoint", str(path),
                  "--checkpoint-every", EVERY, "--no-schedule", *out, cwd=tmp_path)
    try:
        _wait_for(path, proc)
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 3, stderr
    assert "Traceback" not in stderr
    name = signal.Signals(sig).name
    if as_json:
        doc = json.loads(stdout)  # the whole of stdout is one object
        assert doc["verdict"] == INCOMPLETE and doc["complete"] is False
        assert f"interrupted by {name}" in doc["reason"] and str(path) in doc["reason"]
        assert doc["checkpoint"]["file"] == str(path)
        assert f"--resume {path}" in doc["checkpoint"]["command"]
        explored = doc["executions"]
    else:
        assert "INCOMPLETE" in stdout and f"interrupted by {name}" in stdout
        assert f"checkpoint: {path}" in stdout
        assert f"--strategy {strategy} --resume {path}" in stdout
        explored = json.loads(path.read_text())["stats"]["executions"]
    saved = json.loads(path.read_text())
    assert saved["stats"]["executions"] == explored  # saved when it stopped
    want = uninterrupted(strategy)
    assert 0 < explored < want["executions"]
    got = _resume(strategy, path)
    assert {k: got[k] for k in KEYS} == {k: want[k] for k in KEYS}


# -- bad input -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkpoint of the default check (optimal), stopped after 20 executions."""
    path = tmp_path_factory.mktemp("ckpt") / "default.ckpt"
    r = api.check(checkpoint=Plan(str(path), interrupt_after=20)).result
    assert r.checkpoint == str(path)
    return path


def _one_line_error(p: subprocess.CompletedProcess[str], *words: str) -> str:
    assert p.returncode == 2, p.stdout + p.stderr
    assert p.stdout == ""
    assert p.stderr.count("\n") == 1 and "Traceback" not in p.stderr, p.stderr
    for w in words:
        assert w in p.stderr, p.stderr
    return p.stderr


def _copy(saved: Path, tmp_path: Path, edit: Any = None, text: str | None = None) -> Path:
    path = tmp_path / "bad.ckpt"
    if text is not None:
        path.write_text(text)
        return path
    doc = json.loads(saved.read_text())
    if edit is not None:
        edit(doc)
    path.write_text(json.dumps(doc))
    return path


def _redigest(doc: dict[str, Any]) -> None:
    doc["digest"] = ckpt._digest(doc["stats"], ckpt._dump_state(doc["state"]))


def _bad_path(doc: dict[str, Any]) -> None:
    doc["state"]["path"][0] = [99, None]
    _redigest(doc)


BAD_FILES = {
    "truncated": (lambda s: s.read_text()[: len(s.read_text()) // 2], None, "truncated"),
    "not json": (lambda s: "not json\n", None, "truncated or corrupt"),
    "not a checkpoint": (lambda s: '{"schema": 1}\n', None, "not an explorer checkpoint"),
    "version": (None, lambda d: d.update(version=99), "format version 99"),
    "digest": (None, lambda d: d["state"]["path"].pop(), "do not match its digest"),
    "stats": (None, lambda d: d["stats"].update(executions=3), "do not match its digest"),
    "another program": (None, lambda d: d["run"].update(program="0" * 64),
                        "another compiled program"),
    "tool": (None, lambda d: d["run"].update(tool="explorer 0.0.1"), "tool is"),
    "engine": (None, lambda d: d["run"].update(engine="0" * 64), "another build of the search"),
    "path does not fit": (None, _bad_path, "corrupt or not for this program"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_resume_file_is_one_line(case: str, saved: Path, tmp_path: Path) -> None:
    text, edit, words = BAD_FILES[case]
    path = _copy(saved, tmp_path, edit, text(saved) if text else None)
    before = path.read_bytes()
    p = cli("check", "--resume", str(path))
    _one_line_error(p, str(path), words)
    assert path.read_bytes() == before  # a file that does not resume is left alone


@pytest.mark.parametrize(("args", "words"), [
    (("--strategy", "dpor"), "strategy is \"optimal\" there, \"dpor\" here"),
    (("--set", "get_folio=1"), "parameter get_folio is 2 there, 1 here"),
    (("--mutant", "no-synchronize"), "mutant is none there"),
    (("--memory-model", "tso"), "memory_model"),
    (("--srcu", "impl"), "srcu"),
    (("--max-steps", "99"), "max_steps"),
    (("--scenario", "small"), "scenario"),
])
def test_resume_with_other_options_is_refused(args: tuple[str, ...], words: str,
                                              saved: Path) -> None:
    _one_line_error(cli("check", *args, "--resume", str(saved)), str(saved), words)


def test_missing_and_folder_resume_files(tmp_path: Path) -> None:
    _one_line_error(cli("check", "--resume", str(tmp_path / "nope.ckpt")), "no such file")
    _one_line_error(cli("check", "--resume", str(tmp_path)), "is a folder")


def test_checkpoint_never_overwrites_a_users_file(saved: Path, tmp_path: Path) -> None:
    mine = tmp_path / "notes.txt"
    mine.write_text("mine")
    _one_line_error(cli("check", "--checkpoint", str(mine)), "exists", "--force")
    assert mine.read_text() == "mine"
    # A checkpoint, too: starting over would lose it; the message says how to go on.
    p = cli("check", "--checkpoint", str(saved))
    _one_line_error(p, f"--resume {saved}")
    _one_line_error(cli("check", "--checkpoint", str(tmp_path / "no" / "c.ckpt")), "no folder")
    p = cli("check", "--checkpoint", str(mine), "--force", "--max-executions", "5")
    assert p.returncode == 3, p.stderr
    assert json.loads(mine.read_text())["format"] == ckpt.FORMAT  # overwritten: --force


def test_strategies_that_cannot_be_checkpointed(tmp_path: Path) -> None:
    _one_line_error(cli("check", "--strategy", "random", "--checkpoint",
                        str(tmp_path / "c.ckpt")), "random cannot be checkpointed")
    _one_line_error(cli("check", "--checkpoint-every", "5"), "needs --checkpoint")
    assert not (tmp_path / "c.ckpt").exists()
    with pytest.raises(BadInput):
        api.check(strategy="random", checkpoint=Plan(str(tmp_path / "c.ckpt")))


def test_the_file_says_what_it_belongs_to(saved: Path) -> None:
    doc = json.loads(saved.read_text())
    assert doc["format"] == ckpt.FORMAT and doc["version"] == ckpt.VERSION
    run = doc["run"]
    assert {"model", "scenario", "parameters", "mutant", "srcu", "memory_model", "strategy",
            "max_steps", "program", "tool", "engine"} <= set(run)
    assert run["model"] == "guest_memfd" and run["strategy"] == "optimal"
    assert doc["stats"]["executions"] == 20 and doc["state"]["kind"] == "end"
