"""`explorer ci SUITE ...`: run the checks of suites and gate on their expected verdicts.

Each check runs in a worker process (`--jobs N`); one line per check as it
ends, then a summary. Exit 0 only when every check got its expected verdict
(an incomplete one counts only where its suite allows it), 1 otherwise, 2
for a bad suite or bad output path (before anything runs).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from . import api
from .evidence import report, schedule
from .gate import writers
from .gate.result import ALLOWED, ERROR, FAILED, INCOMPLETE, PASSED, CheckResult, FlowStep
from .gate.suite import CheckSpec, Suite, load
from .lang.family import BadInput
from .lang.model import ModelError
from .search.budget import Budget
from .search.outcome import Outcome
from .search.result import HOLDS, VIOLATED

EXIT_PASS, EXIT_FAIL, EXIT_BAD_INPUT = 0, 1, 2


def run_check(spec: CheckSpec, artifacts: str | None = None) -> CheckResult:
    """One check, start to end; never raises (a bad check is an ERROR result)."""
    start = time.perf_counter()
    budget = Budget(spec.max_executions, spec.timeout, spec.max_steps or Budget.max_steps)
    try:
        # A check that names the property that must fail checks that one alone: whether
        # it can fail, not whether it is the first of several to fail.
        only = [spec.expect_property] if spec.expect_property else None
        out = api.check(spec.model, spec.scenario, spec.settings, spec.mutant, spec.strategy,
                        budget, spec.srcu, spec.memory_model, progress=False, minimize=False,
                        properties=only)
    except (BadInput, ModelError) as err:
        return CheckResult(spec, "error", ERROR, reason=str(err),
                           seconds=time.perf_counter() - start)
    except Exception as err:  # a bug in the tool: the gate fails, and says so
        return CheckResult(spec, "error", ERROR,
                           reason=f"internal error: {type(err).__name__}: {err}",
                           seconds=time.perf_counter() - start)
    r = out.result
    name = r.failure.name if r.failure is not None and r.verdict == VIOLATED else ""
    if r.verdict == VIOLATED:
        wanted = spec.expect == "violated" and spec.expect_property in (None, name)
        status = PASSED if wanted else FAILED
    elif r.verdict == HOLDS:
        status = PASSED if spec.expect == "holds" else FAILED
    elif r.verdict == "incomplete":
        status = ALLOWED if spec.allow_incomplete else INCOMPLETE
    else:
        status = ERROR
    if status == FAILED and r.verdict == VIOLATED:
        # A finding: its easiest interleaving, as `explorer check` would print it.
        out = api.settle(out)
    text = report.text(out)
    reason = r.reason
    if status == FAILED:
        reason = _unexpected(spec, out)
    flow = _flow(out) if status == FAILED and r.verdict == VIOLATED else ()
    made = _artifacts(spec, out, artifacts) if flow and artifacts else ()
    desc = r.failure.description if r.failure is not None and name else ""
    return CheckResult(spec, r.verdict, status, r.stats.executions,
                       time.perf_counter() - start, name, desc, reason, text, flow, made)


def _unexpected(spec: CheckSpec, out: Outcome) -> str:
    r = out.result
    if r.verdict == HOLDS:
        want = f"a violation of {spec.expect_property}" if spec.expect_property else "a violation"
        return (f"expected {want}, but every property holds exhaustively "
                f"({r.stats.executions:,} executions)")
    assert r.failure is not None
    if spec.expect == "holds":
        return f"expected to hold, but {r.failure.name} is violated: {r.failure.description}"
    return f"expected a violation of {spec.expect_property}, but {r.failure.name} is violated first"


def _flow(out: Outcome) -> tuple[FlowStep, ...]:
    return tuple(FlowStep(i, rec.thread_name, rec.op, rec.label, rec.line, rec.code)
                 for i, rec in enumerate(out.trace or [], 1))


def slug(spec: CheckSpec) -> str:
    """A file name for a check's artifacts: stable, and unique within a suite."""
    base = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{spec.suite}-{spec.id}").strip("-")
    return f"{base[:150]}-{spec.index}"


def _artifacts(spec: CheckSpec, out: Outcome, folder: str) -> tuple[str, ...]:
    """The schedule file and HTML graph of a finding (a write that fails is skipped:
    the verdict never depends on a side file)."""
    made = []
    base = Path(folder) / slug(spec)
    with contextlib.suppress(BadInput, OSError):
        made.append(str(schedule.save(schedule.from_outcome(out), base.with_suffix(".json"))))
    try:
        from .evidence import graph

        html = base.with_suffix(".html")
        graph.export(graph.from_outcome(out), html)
        made.append(str(html))
    except (BadInput, OSError):
        pass
    return tuple(made)


def run_suites(suites: Sequence[Suite], jobs: int, artifacts: str | None,
               on_result: Callable[[CheckResult], None]) -> list[CheckResult]:
    """Every check of every suite, `jobs` at a time; results in the suites' order."""
    specs = [c for s in suites for c in s.checks]
    results: dict[int, CheckResult] = {}
    if jobs <= 1:
        for i, spec in enumerate(specs):
            results[i] = run_check(spec, artifacts)
            on_result(results[i])
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(run_check, spec, artifacts): i
                       for i, spec in enumerate(specs)}
            for f in as_completed(futures):
                results[futures[f]] = f.result()
                on_result(results[futures[f]])
    return [results[i] for i in range(len(specs))]


def _line(res: CheckResult) -> str:
    mark = {PASSED: "ok  ", ALLOWED: "ok? ", FAILED: "FAIL", INCOMPLETE: "INC ",
            ERROR: "ERR "}[res.status]
    return f"{mark} {res.spec.id}: {res.summary()} [{res.seconds:.1f} s]"


def cmd_ci(args: argparse.Namespace) -> int:
    paths = args.suites or ["specs/ci.toml"]
    suites = [load(p) for p in paths]
    outputs = {"--junit": args.junit, "--sarif": args.sarif, "--json": args.json_out,
               "--markdown": args.markdown}
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    for flag, path in outputs.items():
        if path is None:
            continue
        appends = flag == "--markdown" and summary_file and _same(path, summary_file)
        writers.check_output(flag, path, args.force or bool(appends))
    if args.artifacts:
        writers.check_folder("--artifacts", args.artifacts)
    total = sum(len(s.checks) for s in suites)
    print(f"explorer ci: {total} checks from {', '.join(s.path for s in suites)}, "
          f"{args.jobs} at a time", flush=True)

    def show(res: CheckResult) -> None:
        if not args.quiet or not res.ok:
            print(_line(res), flush=True)

    start = time.perf_counter()
    results = run_suites(suites, args.jobs, args.artifacts, show)
    seconds = time.perf_counter() - start
    print(writers.summary_line(results, seconds))
    for res in results:
        if res.status == FAILED and res.report:
            print(f"\n--- {res.spec.id}: {res.reason}\n{res.report}")
    failed = [f"{flag} {path}: {why}" for flag, path, why in writers.write_all(
        suites, results, seconds, args.junit, args.sarif, args.json_out, args.markdown,
        append_markdown=bool(summary_file and args.markdown
                             and _same(args.markdown, summary_file)))]
    for line in failed:  # a report that cannot be written never changes the gate's answer
        print(f"explorer ci: not written: {line}", file=sys.stderr)
    return EXIT_PASS if all(r.ok for r in results) else EXIT_FAIL


def _same(a: str, b: str) -> bool:
    try:
        return os.path.realpath(a) == os.path.realpath(b)
    except OSError:
        return False
