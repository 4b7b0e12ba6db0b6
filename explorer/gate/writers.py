"""The gate's output files: checked before any check runs, written after all of them.

A file that cannot be written is reported (write_all returns why) and never
changes the gate's answer; an existing file is not overwritten without --force.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ..lang.family import BadInput
from . import markdown, report_json, sarif
from .result import ALLOWED, ERROR, FAILED, INCOMPLETE, PASSED, CheckResult
from .suite import Suite


def check_output(flag: str, path: str, force: bool) -> None:
    p = Path(path)
    if p.is_dir():
        raise BadInput(f"{flag} {path}: is a folder")
    if p.exists() and not force:
        raise BadInput(f"{flag} {path}: file exists (will not overwrite it without --force)")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise BadInput(f"{flag} {path}: no folder {parent}")
    if not os.access(parent, os.W_OK):
        raise BadInput(f"{flag} {path}: folder {parent} is not writable")


def check_folder(flag: str, path: str) -> None:
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise BadInput(f"{flag} {path}: not a folder")
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise BadInput(f"{flag} {path}: cannot create it: {err.strerror or err}") from None


def counts(results: Sequence[CheckResult]) -> dict[str, int]:
    return {k: sum(r.status == k for r in results)
            for k in (PASSED, FAILED, INCOMPLETE, ALLOWED, ERROR)}


def summary_line(results: Sequence[CheckResult], seconds: float) -> str:
    c = counts(results)
    verdict = "PASSED" if all(r.ok for r in results) else "FAILED"
    parts = [f"{c[PASSED]} as expected"]
    for key, what in ((FAILED, "unexpected verdicts"), (INCOMPLETE, "incomplete"),
                      (ALLOWED, "incomplete where allowed"), (ERROR, "errors")):
        if c[key]:
            parts.append(f"{c[key]} {what}")
    return f"gate {verdict}: {len(results)} checks: {', '.join(parts)} ({seconds:.1f} s)"


def write_all(suites: Sequence[Suite], results: Sequence[CheckResult], seconds: float,
              junit_path: str | None, sarif_path: str | None, json_path: str | None,
              markdown_path: str | None, append_markdown: bool = False
              ) -> list[tuple[str, str, str]]:
    """Writes what was asked for; returns (flag, path, why) for each that failed."""
    failed = []

    def junit_text() -> str:
        from . import junit  # junitparser: only when a JUnit file is asked for

        return junit.render(suites, results)

    jobs = [
        ("--junit", junit_path, junit_text),
        ("--sarif", sarif_path, lambda: sarif.render(results)),
        ("--json", json_path, lambda: report_json.render(suites, results, seconds)),
        ("--markdown", markdown_path,
         lambda: markdown.render(results, summary_line(results, seconds))),
    ]
    for flag, path, render in jobs:
        if path is None:
            continue
        try:
            text = render()
            mode = "a" if flag == "--markdown" and append_markdown else "w"
            with open(path, mode, encoding="utf-8") as f:
                f.write(text)
        except OSError as err:
            failed.append((flag, path, err.strerror or str(err)))
    return failed
