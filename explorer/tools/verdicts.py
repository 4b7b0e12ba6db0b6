"""The verdict matrix: every mutant × memory model × SRCU model, checked now.

    python -m explorer.tools.verdicts [--jobs J] [--timeout S] [--out reports/verdicts.json]
    (or: make verdicts)

For each model in PLAN, each mutant (and the unmutated model), each SRCU model
the family has and each memory model, the explorer checks the plan's
scenarios in order and stops at the first violation. A cell records the
verdict, the scenario that decided it, the executions explored, the length
of the shortest counterexample (fewest steps, found by a separate search),
the time, and evidence read from the violating state: the property, the step
after which it failed, and which stores were still in a store buffer.
Nothing is expected: every verdict is the explorer's. NOTES (specs/
verdict_notes.py) explain the verdicts in words; they were written from these
counterexamples and are printed beside them, never used to decide anything.
Writes the JSON and a Markdown report next to it (same name, .md).
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from explorer import api
from explorer.args import OneLineParser, positive_float, positive_int
from explorer.catalog import load
from explorer.compile.lowering import MEMORY_MODELS, pending_stores, stale_reads
from explorer.compile.program import Program, State, StepRecord
from explorer.lang.family import BadInput
from explorer.lang.model import ModelError
from explorer.search.budget import Budget
from explorer.search.common import failure_in
from explorer.search.minimize import fewest_switches
from explorer.search.replay import replay
from explorer.search.result import VIOLATED

from .verdict_notes import NOTES

# model -> scenarios to try, in order: (scenario, --set overrides, label)
PLAN: dict[str, list[tuple[str, dict[str, str], str]]] = {
    "guest_memfd": [
        ("small", {}, "small"),
        ("default", {}, "default"),
        ("default", {"get_folio": "2", "fallocate": "1", "present": ""}, "gf2-fa1-cold"),
        ("repeat", {}, "repeat"),
        ("refreeze", {}, "refreeze"),
        ("two-preservers", {}, "two-preservers"),
    ],
    "srcu": [
        ("default", {}, "default"),
        ("three-readers", {}, "three-readers"),
        ("repeat", {}, "repeat"),
        ("migrate", {}, "migrate"),
        ("publish", {}, "publish"),
        ("publish-repeat", {}, "publish-repeat"),
    ],
}

HOLDS_MARK, VIOLATED_MARK = "holds", "VIOLATED"


@dataclass
class Cell:
    model: str
    mutant: str
    srcu: str
    memory_model: str
    verdict: str = ""  # holds | violated | incomplete | n/a | error
    scenario: str = ""  # the scenario that violated (or the last one run)
    scenarios_run: list[str] = field(default_factory=list)
    property: str = ""
    executions: int = 0  # of the violating check, or all checks when it holds
    shortest: int | None = None  # steps in the shortest counterexample
    shortest_exact: bool = True  # False: the search was cut; `shortest` is an upper bound
    seconds: float = 0.0
    evidence: str = ""
    reason: str = ""


def _plan(model: str) -> list[tuple[str, dict[str, str], str]]:
    fam = load().get(model).family
    for scenario, _, _ in PLAN[model]:
        fam.scenario(scenario)  # a misspelt scenario is an error, never a skipped row
    return PLAN[model]


def check_cell(model: str, mutant: str | None, srcu: str, mm: str, timeout: float,
               strategy: str = "optimal", evidence: bool = True) -> Cell:
    """One cell; with evidence=False a violation is not minimised nor explained
    (the graph agreement run wants the verdict only)."""
    cell = Cell(model, mutant or "(none)", srcu, mm)
    start = time.perf_counter()
    plan = _plan(model)
    try:  # a mutant of one SRCU model does not exist in the other
        api.prepare(model, plan[0][0], plan[0][1], mutant, srcu, mm)
    except BadInput as err:
        cell.verdict, cell.reason = "n/a", str(err)
        return cell
    for scenario, settings, label in plan:
        try:
            out = api.check(model, scenario, settings, mutant, strategy=strategy,
                            budget=Budget(timeout=timeout), srcu=srcu, memory_model=mm,
                            minimize=False)
        except (BadInput, ModelError) as err:
            cell.verdict, cell.reason = "error", str(err)
            break
        res = out.result
        cell.scenarios_run.append(label)
        cell.scenario = label
        if res.verdict == VIOLATED:
            assert res.failure is not None and out.program is not None
            cell.verdict, cell.property = "violated", res.failure.name
            cell.executions = res.stats.executions
            if not evidence:
                break
            # The evidence is read from the shortest counterexample (one search for it,
            # instead of check's own minimisation as well).
            short = fewest_switches(out.program, res.failure.name, steps_first=True)
            schedule = short if short is not None else res.schedule or []
            cell.shortest, cell.shortest_exact = len(schedule), short is not None
            cell.evidence = _evidence(out.program, *replay(out.program, schedule))
            break
        cell.executions += res.stats.executions
        if res.verdict != "holds":
            cell.verdict, cell.reason = res.verdict, res.reason
            continue  # a later scenario may still violate
        if not cell.verdict:
            cell.verdict = "holds"
    cell.seconds = time.perf_counter() - start
    return cell


def _evidence(p: Program, trace: list[StepRecord], s: State) -> str:
    """What the violating state shows: where it failed and what was not yet visible."""
    parts = []
    steps = [r for r in trace if not r.fused]
    if steps:
        last = steps[-1]
        parts.append(f"fails after {last.thread_name} {last.label} ({last.line})")
    pending = [f"{loc} on {cpu} ({n} store(s))" for loc, cpu, n in pending_stores(p.names, s)]
    if pending:
        parts.append("still in a store buffer: " + ", ".join(pending))
    stale = stale_reads(trace)
    if stale:
        parts.append(stale[0] + (f" (and {len(stale) - 1} more)" if len(stale) > 1 else ""))
    failure = failure_in(p, s)
    if failure is not None and failure.detail:
        parts.append(failure.detail)
    return "; ".join(parts)


def _cells(models: Sequence[str]) -> list[tuple[str, str | None, str, str]]:
    cat = load()
    out = []
    for model in models:
        fam = cat.get(model).family
        for mutant in [None] + [m.name for m in fam.mutants]:
            for srcu in fam.srcu_models:
                for mm in MEMORY_MODELS:
                    out.append((model, mutant, srcu, mm))
    return out


def run(models: Sequence[str], jobs: int, timeout: float) -> list[Cell]:
    todo = _cells(models)
    cells: list[Cell] = []
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(check_cell, *t, timeout) for t in todo]
        for f in tqdm(as_completed(futures), total=len(futures), desc="verdicts",
                      disable=None, file=sys.stderr):
            cells.append(f.result())
    order = {t[:4]: i for i, t in enumerate((c[0], c[1] or "(none)", c[2], c[3]) for c in todo)}
    cells.sort(key=lambda c: order[(c.model, c.mutant, c.srcu, c.memory_model)])
    return cells


# -- the report ---------------------------------------------------------------------


def _short(c: Cell) -> str:
    if c.verdict == "violated":
        n = f"{c.shortest}" if c.shortest_exact else f"≤{c.shortest}"
        return f"**✗** {c.scenario}, {n} steps"
    if c.verdict == "holds":
        return f"✓ {c.executions:,}"
    return c.verdict


def markdown(doc: dict[str, Any]) -> str:
    cells = [Cell(**c) for c in doc["cells"]]
    lines = [
        "# Verdict matrix",
        "",
        f"Generated by `make verdicts` (`python -m explorer.tools.verdicts`) on {doc['date']}, "
        f"{doc['machine']}; per-check timeout {doc['timeout']:g} s. Every verdict is the "
        "explorer's (optimal DPOR; a violation is then minimised). A cell is **✗ scenario, "
        "N steps** (violated; N = the shortest counterexample, ≤ when that search was cut) "
        "or ✓ executions (holds exhaustively on every scenario tried, executions summed); "
        "n/a: the mutant needs the other SRCU model.",
        "",
    ]
    for model in dict.fromkeys(c.model for c in cells):
        mine = [c for c in cells if c.model == model]
        cols = list(dict.fromkeys((c.srcu, c.memory_model) for c in mine))
        scen = ", ".join(label for label in (p[2] for p in _plan(model)))
        lines += [f"## {model}", "", f"Scenarios, in order (first violation wins): {scen}.", ""]
        lines.append("| mutant | " + " | ".join(f"{s} SRCU, {m.upper()}" for s, m in cols) + " |")
        lines.append("|---" * (len(cols) + 1) + "|")
        for mutant in dict.fromkeys(c.mutant for c in mine):
            row = {(c.srcu, c.memory_model): c for c in mine if c.mutant == mutant}
            lines.append(f"| {mutant} | " + " | ".join(_short(row[k]) for k in cols) + " |")
        lines.append("")
    lines += ["## Every verdict, explained", ""]
    for model in dict.fromkeys(c.model for c in cells):
        for mutant in dict.fromkeys(c.mutant for c in cells if c.model == model):
            mine = [c for c in cells if c.model == model and c.mutant == mutant]
            lines.append(f"### {model}: {mutant}")
            lines.append("")
            note = NOTES.get((model, mutant)) or NOTES.get(("*", mutant))
            if note:
                lines += [note, ""]
            for c in mine:
                if c.verdict == "n/a":
                    continue
                head = (f"- {c.srcu} SRCU, {c.memory_model.upper()}: {c.verdict}"
                        f" ({c.executions:,} executions, {c.seconds:.2f} s")
                if c.verdict == "violated":
                    n = c.shortest if c.shortest_exact else f"≤{c.shortest}"
                    lines.append(f"{head}; {c.property} on {c.scenario}, {n} steps): "
                                 f"{c.evidence}")
                elif c.verdict == "holds":
                    lines.append(f"{head}; scenarios {', '.join(c.scenarios_run)})")
                else:
                    lines.append(f"{head}): {c.reason}")
            lines.append("")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    p = OneLineParser(prog="python -m explorer.tools.verdicts",
                      description=__doc__.split("\n\n")[0])
    p.add_argument("--jobs", type=positive_int, default=os.cpu_count() or 1)
    p.add_argument("--timeout", type=positive_float, default=120.0,
                   help="seconds per check before it counts as incomplete (default 120)")
    p.add_argument("--out", default="reports/verdicts.json")
    p.add_argument("--model", action="append", choices=list(PLAN),
                   help="only this model (repeatable; default: all)")
    args = p.parse_args(argv)
    out = Path(args.out)
    if out.suffix != ".json":
        p.error(f"--out {args.out}: expected a .json file name")
    start = time.perf_counter()
    cells = run(args.model or list(PLAN), args.jobs, args.timeout)
    doc = {
        "tool": "python -m explorer.tools.verdicts",
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": f"Python {platform.python_version()}, {os.cpu_count()} CPUs",
        "timeout": args.timeout,
        "seconds": time.perf_counter() - start,
        "cells": [asdict(c) for c in cells],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1) + "\n")
    out.with_suffix(".md").write_text(markdown(doc) + "\n")
    print(f"{len(cells)} cells in {doc['seconds']:.0f} s: {out} and {out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
