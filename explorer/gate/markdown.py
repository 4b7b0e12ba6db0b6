"""`explorer ci --markdown FILE`: a summary for a pull request or $GITHUB_STEP_SUMMARY."""

from __future__ import annotations

from collections.abc import Sequence

from .result import ALLOWED, ERROR, FAILED, INCOMPLETE, PASSED, CheckResult

_MARK = {PASSED: "✅", ALLOWED: "⚪", FAILED: "❌", INCOMPLETE: "⏳", ERROR: "💥"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(results: Sequence[CheckResult], summary: str) -> str:
    ok = all(r.ok for r in results)
    out = [f"## explorer ci: {'passed' if ok else 'FAILED'}", "", summary, ""]
    bad = [r for r in results if not r.ok]
    if bad:
        out += ["### Unexpected", "", "| | check | expected | got |", "|---|---|---|---|"]
        out += [f"| {_MARK[r.status]} | `{_cell(r.spec.id)}` | {r.spec.expect} | "
                f"{_cell(r.summary())} |" for r in bad]
        out.append("")
        for r in bad:
            if r.report:
                out += [f"<details><summary>{_cell(r.spec.id)}: {_cell(r.reason)}</summary>",
                        "", "```", r.report, "```", "", "</details>", ""]
    out += ["<details><summary>Every check</summary>", "",
            "| | check | expected | verdict | executions | seconds |",
            "|---|---|---|---|---:|---:|"]
    out += [f"| {_MARK[r.status]} | `{_cell(r.spec.id)}` | {r.spec.expect} | {r.verdict}"
            f"{' (' + r.failure + ')' if r.failure else ''} | {r.executions:,} | "
            f"{r.seconds:.1f} |" for r in results]
    out += ["", "</details>", ""]
    return "\n".join(out)
