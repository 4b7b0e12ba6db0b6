"""The CI integration examples (.github/workflows/verify.yml, .pre-commit-hooks.yaml),
tested as far as this machine allows: they parse, their commands are commands this
explorer accepts, the files they upload are the files those commands write, and (make
test-long) the workflow's gate step runs as written."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from common import ROOT

from explorer.cli import build_parser

WORKFLOW = yaml.safe_load((ROOT / ".github/workflows/verify.yml").read_text())
HOOKS = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
SCRIPTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]


def _steps() -> list[dict]:
    (job,) = WORKFLOW["jobs"].values()
    return job["steps"]


def _gate_command() -> list[str]:
    (step,) = [s for s in _steps() if "explorer ci" in s.get("run", "")]
    return shlex.split(step["run"])


def test_the_workflow_runs_the_gate_and_uploads_what_it_writes():
    cmd = _gate_command()
    assert cmd[0] in SCRIPTS and cmd[1] == "ci"
    args = build_parser().parse_args(cmd[1:])  # options this explorer has
    assert args.suites == ["specs/ci.toml"] and (ROOT / args.suites[0]).is_file()
    assert args.markdown == "$GITHUB_STEP_SUMMARY"
    uses = {s["uses"].split("@")[0]: s for s in _steps() if "uses" in s}
    sarif = uses["github/codeql-action/upload-sarif"]
    assert sarif["with"]["sarif_file"] == args.sarif and sarif.get("if") == "always()"
    uploads = [s for s in _steps() if s.get("uses", "").startswith("actions/upload-artifact")]
    paths = {s["with"]["path"].rstrip("/") for s in uploads}
    assert args.artifacts in paths and args.junit in paths
    assert all(s.get("if") == "always()" for s in uploads)
    assert WORKFLOW["permissions"]["security-events"] == "write"
    installs = [s["run"] for s in _steps() if "pip install" in s.get("run", "")]
    assert installs, "the workflow installs the explorer before it runs it"


def test_the_pre_commit_hooks_are_commands_this_explorer_accepts():
    ids = {h["id"] for h in HOOKS}
    assert {"explorer-ci", "explorer-check"} <= ids
    for hook in HOOKS:
        entry = shlex.split(hook["entry"])
        assert entry[0] in SCRIPTS and hook["language"] == "python"
        assert hook["pass_filenames"] is False
        build_parser().parse_args([*entry[1:], *hook.get("args", [])])


@pytest.mark.slow
def test_the_workflows_gate_step_runs_as_written(tmp_path: Path):
    summary = tmp_path / "summary.md"
    summary.write_text("")
    cmd = [sys.executable, "-m", "explorer", *_gate_command()[1:]]
    cmd = [str(summary) if c == "$GITHUB_STEP_SUMMARY" else c for c in cmd]
    work = tmp_path / "work"
    work.mkdir()
    (work / "specs").symlink_to(ROOT / "specs")
    (work / "examples").symlink_to(ROOT / "examples")
    env = {**os.environ, "GITHUB_STEP_SUMMARY": str(summary),
           "PYTHONPATH": str(ROOT)}
    r = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True,
                       timeout=1800, check=False)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr
    assert summary.read_text().startswith("## explorer ci: passed")
    assert (work / "explorer-results.sarif").is_file()
    assert (work / "explorer-results.xml").is_file()
