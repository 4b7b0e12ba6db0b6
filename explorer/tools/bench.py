"""`explorer bench`: executions, events, time and memory of every strategy, side by side.

Each measurement runs in a fresh interpreter (so peak RSS is that run's
own), several times; the table reports medians and ratios measured in the
same run. Figures go to reports/bench.json, reports/bench.md and a PNG plot.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..args import OneLineParser, positive_int
from ..search.budget import Budget

STRATEGIES = ("naive", "stateful", "dpor", "optimal")
NAIVE_TIMEOUT = 20.0  # seconds; naive past this is reported as not finished
WEAK_TIMEOUT = 300.0  # seconds; a TSO/PSO or impl-SRCU case past this is not finished


@dataclass(frozen=True)
class Case:
    """One scenario to measure: `--set` settings of the suite's model."""

    name: str
    settings: Mapping[str, str]
    x: int = 0  # where it sits on the plot's x axis
    panel: str = ""  # which plot panel it belongs to ("": not plotted)
    quick: bool = True  # part of `explorer bench --quick`
    memory_model: str = "sc"
    srcu: str = "abstract"
    strategies: tuple[str, ...] = ()  # which strategies to run ((): all)
    baseline: str = ""  # the case (SC, abstract SRCU) this one is compared with

    def within(self, other: Case) -> bool:
        """Every numeric setting at most other's: if other is too big, so is this."""
        for key, value in self.settings.items():
            mine, theirs = value, other.settings.get(key, value)
            if mine.isdigit() and theirs.isdigit() and int(mine) > int(theirs):
                return False
        return True


@dataclass(frozen=True)
class Suite:
    """What to measure, and the peers' figures to set beside ours (from specs/)."""

    model: str
    title: str
    legend: str
    cases: tuple[Case, ...]
    x_label: str
    anchors: Mapping[str, str]  # case name -> the peers' figures on it
    memory_settings: Mapping[str, str]


def load_suite(module: str | None = None) -> Suite:
    name = module or os.environ.get("EXPLORER_BENCH", "explorer.tools.bench_suite")
    suite = importlib.import_module(name).SUITE
    assert isinstance(suite, Suite)
    return suite


# -- one measurement (runs in a child interpreter) --------------------------------


def peak_rss_kb() -> int:
    """This process's peak resident set, in kB.

    VmHWM belongs to the current program image; ru_maxrss survives exec on
    Linux and so would count the parent's memory at fork time.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure(
    model: str, settings: Mapping[str, str], strategy: str, budget: Budget,
    memory_model: str = "sc", srcu: str = "abstract",
) -> dict[str, Any]:
    from ..api import prepare
    from ..search import run

    _, program = prepare(model, settings=settings, srcu=srcu, memory_model=memory_model)
    base_kb = peak_rss_kb()
    start = time.perf_counter()
    result = run(strategy, program, budget, progress=False)
    seconds = time.perf_counter() - start
    return {
        "verdict": result.verdict,
        "reason": result.reason,
        **asdict(result.stats),
        "seconds": seconds,  # around the search alone, as the stats' own
        "base_rss_kb": base_kb,
        "peak_rss_kb": peak_rss_kb(),
    }


def _worker(spec: dict[str, Any]) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "explorer.tools.bench", "--worker", json.dumps(spec)]
    try:
        out = subprocess.run(
            cmd, capture_output=True, text=True, check=True,
            timeout=spec.get("timeout", 600) + 60,
        ).stdout
    except subprocess.TimeoutExpired:
        return {"verdict": "incomplete", "reason": "worker timed out"}
    return dict(json.loads(out.strip().splitlines()[-1]))


# -- the whole benchmark -------------------------------------------------------------


@dataclass
class Row:
    case: Case
    strategy: str
    runs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return bool(self.runs) and all(r["verdict"] in ("holds", "violated") for r in self.runs)

    def median(self, key: str) -> float:
        return statistics.median(float(r[key]) for r in self.runs)

    def summary(self) -> dict[str, Any]:
        first = self.runs[0]
        out: dict[str, Any] = {
            "case": self.case.name,
            "settings": dict(self.case.settings),
            "x": self.case.x,
            "panel": self.case.panel,
            "memory_model": self.case.memory_model,
            "srcu": self.case.srcu,
            "baseline": self.case.baseline,
            "strategy": self.strategy,
            "finished": self.finished,
            "verdict": first["verdict"],
            "runs": len(self.runs),
        }
        for key in ("executions", "schedules", "states", "events", "sleep_blocked",
                    "deadlocked", "redundant"):
            out[key] = first.get(key)
        out["seconds_median"] = self.median("seconds")
        out["seconds_all"] = [r["seconds"] for r in self.runs]
        ev = out["events"] or 0
        out["events_per_second"] = ev / out["seconds_median"] if out["seconds_median"] else 0
        out["peak_rss_mb"] = self.median("peak_rss_kb") / 1024
        out["rss_above_base_mb"] = statistics.median(
            (r["peak_rss_kb"] - r["base_rss_kb"]) / 1024 for r in self.runs
        )
        return out


def run_bench(
    suite: Suite, cases: list[Case], strategies: tuple[str, ...], repeats: int,
    naive_timeout: float, log: Any = sys.stderr,
) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    naive_dead: list[Case] = []  # naive did not finish these: skip every bigger case
    for case in cases:
        for strategy in strategies:
            if case.strategies and strategy not in case.strategies:
                continue
            row = Row(case, strategy)
            if strategy == "naive" and any(d.within(case) for d in naive_dead):
                continue
            for _ in range(repeats):
                spec: dict[str, Any] = {
                    "model": suite.model, "settings": dict(case.settings), "strategy": strategy,
                    "memory_model": case.memory_model, "srcu": case.srcu,
                }
                if strategy == "naive":
                    spec["timeout"] = naive_timeout
                elif case.memory_model != "sc" or case.srcu != "abstract":
                    spec["timeout"] = WEAK_TIMEOUT
                res = _worker(spec)
                row.runs.append(res)
                if res["verdict"] not in ("holds", "violated"):
                    break  # a run that did not finish is not repeated
            summary = row.summary()
            rows.append(summary)
            print(f"{case.name:<16} {strategy:<9} "
                  f"{summary['executions'] or 0:>10,} execs {summary['events'] or 0:>11,} events "
                  f"{summary['seconds_median']:8.3f} s  {summary['verdict']}", file=log)
            if strategy == "naive" and not row.finished:
                naive_dead.append(case)
    memory = memory_check(suite, log)
    return {
        "tool": "explorer bench",
        "model": suite.model,
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "platform": platform.platform()},
        "repeats": repeats,
        "naive_timeout_seconds": naive_timeout,
        "rows": rows,
        "memory": memory,
    }


def memory_check(suite: Suite, log: Any) -> dict[str, Any]:
    """Peak RSS after 1,000 and after 100,000 executions of a big scenario, per strategy."""
    settings = dict(suite.memory_settings)
    out: dict[str, Any] = {"settings": settings, "strategies": {}}
    for strategy in ("dpor", "optimal"):
        runs: dict[str, Any] = {}
        for n in (1_000, 100_000):
            res = _worker({"model": suite.model, "settings": settings, "strategy": strategy,
                           "max_executions": n})
            runs[str(n)] = {
                "executions": res.get("executions"),
                "events": res.get("events"),
                "verdict": res.get("verdict"),
                "peak_rss_mb": res.get("peak_rss_kb", 0) / 1024,
                "rss_above_base_mb": (res.get("peak_rss_kb", 0) - res.get("base_rss_kb", 0))
                / 1024,
            }
            print(f"memory: {strategy}, {n:,} executions: "
                  f"{runs[str(n)]['peak_rss_mb']:.1f} MB peak", file=log)
        a, b = runs["1000"]["peak_rss_mb"], runs["100000"]["peak_rss_mb"]
        runs["ratio_100k_to_1k"] = b / a if a else None
        out["strategies"][strategy] = runs
    return out


def _ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return "—"
    r = a / b
    return f"{r:,.1f}×" if r < 1e5 else f"{r:.2e}×"


def markdown(suite: Suite, data: dict[str, Any], plot_name: str | None) -> str:
    rows = data["rows"]
    by = {(r["case"], r["strategy"]): r for r in rows}
    cases = list(dict.fromkeys(r["case"] for r in rows))
    lines = [
        f"# Benchmark: {suite.title}",
        "",
        f"Generated by `explorer bench` on {data['date']} ({data['machine']['platform']}, "
        f"Python {data['machine']['python']}, {data['machine']['cpus']} CPUs). "
        f"Times are medians of {data['repeats']} runs, each in a fresh interpreter; "
        f"naive is cut at {data['naive_timeout_seconds']:g} s.",
        "",
        suite.legend,
        "",
        "| case | strategy | executions | sleep-blocked | events | time (s) | events/s | "
        "peak RSS (MB) | above base (MB) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in cases:
        for s in STRATEGIES:
            r = by.get((c, s))
            if r is None:
                continue
            if not r["finished"]:
                lines.append(f"| {c} | {s} | not finished | | | > {r['seconds_median']:.1f} | "
                             "| | |")
                continue
            lines.append(
                f"| {c} | {s} | {r['executions']:,} | {r['sleep_blocked']:,} | "
                f"{r['events']:,} | {r['seconds_median']:.3f} | {r['events_per_second']:,.0f} | "
                f"{r['peak_rss_mb']:.1f} | {r['rss_above_base_mb']:.1f} |"
            )
    weak = [c for c in cases if (by.get((c, "optimal")) or {}).get("baseline")]
    if weak:
        lines += [
            "",
            "## Memory models and Linux's SRCU algorithm",
            "",
            "The same scenarios under TSO/PSO (store buffers, explorer/compile/lowering.py) and "
            "with `--srcu impl` (srcutree.c's counters, scans and barriers), optimal DPOR. "
            "The last column compares with the same case under the abstract SRCU and SC, "
            "measured in the same run.",
            "",
            "| case | SRCU | memory | verdict | executions | events | time (s) | "
            "peak RSS (MB) | time / abstract-SC time |",
            "|---|---|---|---|---:|---:|---:|---:|---:|",
        ]
        for c in weak:
            r = by[(c, "optimal")]
            base = by.get((r["baseline"], "optimal"))
            ratio = _ratio(r["seconds_median"], base["seconds_median"]) if (
                base and r["finished"]) else "—"
            if not r["finished"]:
                lines.append(f"| {c} | {r['srcu']} | {r['memory_model']} | not finished | | | "
                             f"> {r['seconds_median']:.1f} | | |")
                continue
            lines.append(
                f"| {c} | {r['srcu']} | {r['memory_model']} | {r['verdict']} | "
                f"{r['executions']:,} | {r['events']:,} | {r['seconds_median']:.3f} | "
                f"{r['peak_rss_mb']:.1f} | {ratio} |"
            )
    lines += [
        "",
        "## Reduction",
        "",
        "Schedules covered (what naive enumerates; counted exactly by `stateful`) against "
        "executions run by each DPOR strategy, and time ratios in the same run.",
        "",
        "| case | schedules | dpor execs | optimal execs | schedules / optimal | "
        "dpor / optimal | stateful time / optimal time |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for c in cases:
        st, dp, op = by.get((c, "stateful")), by.get((c, "dpor")), by.get((c, "optimal"))
        if not (st and dp and op and op["finished"]):
            continue
        lines.append(
            f"| {c} | {st['schedules']:,} | {dp['executions']:,} | {op['executions']:,} | "
            f"{_ratio(st['schedules'], op['executions'])} | "
            f"{dp['executions'] / op['executions']:.2f} | "
            f"{_ratio(st['seconds_median'], op['seconds_median'])} |"
        )
    lines += ["", "## The peers' published figures (../shared/anchors.md)", "",
              "Measured elsewhere, on other scenarios and in other runs: listed for reference, "
              "not compared (a side-by-side run of matched scenarios is open work, issue 13).", "",
              "| case | optimal time (s) | optimal peak RSS (MB) | peers |", "|---|---:|---:|---|"]
    for name, text in suite.anchors.items():
        op = by.get((name, "optimal"))
        if op and op["finished"]:
            lines.append(f"| {name} | {op['seconds_median']:.3f} | "
                         f"{op['peak_rss_mb']:.1f} | {text} |")
    mem = data["memory"]
    lines += [
        "",
        "## Memory against executions explored",
        "",
        f"Peak RSS of runs stopped by `--max-executions` on {mem['settings']} "
        "(the target: within 10% between 1,000 and 100,000 executions).",
        "",
        "| strategy | 1,000 executions (MB) | 100,000 executions (MB) | ratio |",
        "|---|---:|---:|---:|",
    ]
    for strategy, runs in mem["strategies"].items():
        lines.append(f"| {strategy} | {runs['1000']['peak_rss_mb']:.1f} | "
                     f"{runs['100000']['peak_rss_mb']:.1f} | {runs['ratio_100k_to_1k']:.3f} |")
    lines += [
        "",
        "`dpor` keeps one execution's worth of state. `optimal` also keeps its wakeup trees, "
        "which hold every pending branch; on this protocol they grow with the executions "
        "still to explore.",
    ]
    if plot_name:
        lines += ["", f"![executions per strategy]({plot_name})"]
    return "\n".join(lines) + "\n"


def plot(suite: Suite, data: dict[str, Any], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    panels = list(dict.fromkeys(r["panel"] for r in data["rows"] if r["panel"]))
    if not panels:
        return False
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4.2), sharey=True,
                             squeeze=False)
    series = {
        "naive": ("naive executions", lambda r: r["executions"]),
        "stateful": ("schedules (what naive would run; counted by stateful)",
                     lambda r: r["schedules"]),
        "dpor": ("dpor executions + sleep-blocked runs",
                 lambda r: r["executions"] + r["sleep_blocked"]),
        "optimal": ("optimal executions (= Mazurkiewicz traces)", lambda r: r["executions"]),
    }
    for ax, panel in zip(axes[0], panels, strict=True):
        xs: set[int] = set()
        for strategy, (label, value) in series.items():
            pts = sorted(
                (r["x"], value(r)) for r in data["rows"]
                if r["strategy"] == strategy and r["panel"] == panel and r["finished"]
            )
            xs.update(p[0] for p in pts)
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=label)
        ax.set_xticks(sorted(xs))
        ax.set_yscale("log")
        ax.set_xlabel(suite.x_label)
        ax.set_title(panel)
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel("executions")
    axes[0][-1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return True


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = OneLineParser(prog="explorer bench")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=positive_int, default=3)
    parser.add_argument("--quick", action="store_true", help="small cases only, one run each")
    parser.add_argument("--out", default="reports", help="directory for bench.json/md/png")
    args = parser.parse_args(argv)
    if args.worker:
        spec = json.loads(args.worker)
        budget = Budget(max_executions=spec.get("max_executions"), timeout=spec.get("timeout"))
        print(json.dumps(measure(spec["model"], spec["settings"], spec["strategy"], budget,
                                 spec.get("memory_model", "sc"), spec.get("srcu", "abstract"))))
        return 0
    suite = load_suite()
    cases = list(suite.cases)
    repeats = args.repeats
    if args.quick:
        cases = [c for c in cases if c.quick]
        repeats = 1
    data = run_bench(suite, cases, STRATEGIES, repeats, NAIVE_TIMEOUT)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(data, indent=2) + "\n")
    png = out / "bench.png"
    drawn = plot(suite, data, png)
    md = markdown(suite, data, png.name if drawn else None)
    from .prove_bench import section  # z3 prove against DPOR, rows from PROVE_CASES

    md += "\n" + section(args.quick, repeats)
    (out / "bench.md").write_text(md)
    print(f"wrote {out / 'bench.json'}, {out / 'bench.md'}" + (f", {png}" if drawn else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
