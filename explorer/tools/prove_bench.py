"""Benchmark rows: `explorer prove` (z3 BMC) against `explorer check` (optimal DPOR).

Each case is measured in this process, `repeats` times each, both engines in
the same run; the rows give the median seconds (prove: encoding plus solving,
check: the search without minimising the counterexample) and must agree on
the verdict. The cases come from the bench suite module's PROVE_CASES (see
explorer/tools/bench_suite.py). `explorer bench` appends the table to reports/bench.md,
the one report the README quotes; `python -m explorer.tools.prove_bench` prints the
table alone (for a quick look: it writes no report).
"""

from __future__ import annotations

import importlib
import os
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..args import OneLineParser, positive_int

TITLE = "## z3 bounded model checking (`explorer prove`) against optimal DPOR (`explorer check`)"


@dataclass(frozen=True)
class ProveCase:
    name: str
    scenario: str
    settings: Mapping[str, str] = field(default_factory=dict)
    mutant: str | None = None
    quick: bool = True


def load_cases(module: str | None = None) -> tuple[ProveCase, ...]:
    name = module or os.environ.get("EXPLORER_BENCH", "explorer.tools.bench_suite")
    return tuple(getattr(importlib.import_module(name), "PROVE_CASES", ()))


def measure(case: ProveCase, repeats: int, model: str = "guest_memfd") -> dict[str, Any]:
    from .. import api
    from ..api import prove

    check_s, prove_s, verdicts = [], [], set()
    bound = executions = 0
    for _ in range(repeats):
        start = time.perf_counter()
        out = api.check(model, case.scenario, dict(case.settings), case.mutant, minimize=False)
        check_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        proof = prove(model, case.scenario, dict(case.settings), case.mutant)
        prove_s.append(time.perf_counter() - start)
        verdicts.add((out.result.verdict, proof.outcome.result.verdict))
        bound, executions = proof.bound, out.result.stats.executions
    (dpor_verdict, z3_verdict), = verdicts if len(verdicts) == 1 else {("varies", "varies")}
    return {
        "case": case.name, "scenario": case.scenario, "settings": dict(case.settings),
        "mutant": case.mutant, "runs": repeats, "bound": bound,
        "dpor_executions": executions, "dpor_verdict": dpor_verdict, "z3_verdict": z3_verdict,
        "agree": dpor_verdict == z3_verdict,
        "check_seconds_median": statistics.median(check_s),
        "prove_seconds_median": statistics.median(prove_s),
    }


def run(cases: Sequence[ProveCase], repeats: int, log: Any = sys.stderr) -> list[dict[str, Any]]:
    rows = []
    for case in cases:
        row = measure(case, repeats)
        print(f"prove vs check {case.name}: z3 {row['prove_seconds_median']:.2f} s, "
              f"dpor {row['check_seconds_median']:.3f} s", file=log)
        rows.append(row)
    return rows


def markdown(rows: Sequence[dict[str, Any]]) -> str:
    out = [
        TITLE, "",
        "Same model, same properties (SC, abstract SRCU). Bound = the longest execution in "
        "events (complete). Median seconds over the runs, both measured in the same process; "
        "prove includes encoding, check excludes counterexample minimisation.", "",
        "| case | mutant | verdict (dpor / z3) | DPOR executions | bound | check s | prove s "
        "| prove / check |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        ratio = r["prove_seconds_median"] / max(r["check_seconds_median"], 1e-9)
        out.append(
            f"| {r['case']} | {r['mutant'] or 'none'} | {r['dpor_verdict']} / "
            f"{r['z3_verdict']}{'' if r['agree'] else ' **DISAGREE**'} | "
            f"{r['dpor_executions']:,} | {r['bound']} | {r['check_seconds_median']:.3f} | "
            f"{r['prove_seconds_median']:.2f} | {ratio:,.0f}x |")
    return "\n".join(out) + "\n"


def section(quick: bool, repeats: int) -> str:
    """The markdown section `explorer bench` appends to bench.md ("" without cases)."""
    cases = [c for c in load_cases() if c.quick or not quick]
    return markdown(run(cases, 1 if quick else repeats)) if cases else ""


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog="python -m explorer.tools.prove_bench")
    parser.add_argument("--repeats", type=positive_int, default=3)
    parser.add_argument("--quick", action="store_true", help="quick cases only, one run each")
    args = parser.parse_args(argv)
    cases = [c for c in load_cases() if c.quick or not args.quick]
    print(markdown(run(cases, 1 if args.quick else args.repeats)), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
