"""Soak run: many random programs, every strategy against the brute-force census.

    python -m specs.soak [--programs N] [--seed S] [--out reports/soak.json] [--jobs J]

Draws N programs with the generator of the test suite (tests/randprog.py;
program i comes from random.Random(f"{S}:{i}"), so any one of them can be
redrawn alone) and runs randprog.compare on each, the comparison
tests/test_dpor_random.py makes on 300 of them. Writes per-program counts and
totals to the JSON file and a summary table next to it (same name, .md).
Exit status: 0 if every program agrees, 1 on any mismatch, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import traceback
from collections import Counter
from collections.abc import Iterator, Sequence
from multiprocessing import Pool
from pathlib import Path
from typing import Any

from tqdm import tqdm

from explorer.args import OneLineParser, positive_int

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"


def _randprog() -> Any:
    """The test suite's generator module (tests/ is not a package)."""
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))
    import randprog

    return randprog


def _seed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = OneLineParser(prog="python -m specs.soak", description=__doc__.split("\n\n")[0])
    p.add_argument("--programs", type=positive_int, default=10_000, help="how many (default 10000)")
    p.add_argument("--seed", type=_seed, default=0, help="seed of the run (default 0)")
    p.add_argument("--out", help="JSON report (default reports/soak.json, with --weak "
                   "reports/soak-weak.json); the .md goes next to it")
    p.add_argument("--jobs", type=positive_int, default=1, help="worker processes (default 1)")
    p.add_argument("--weak", action="store_true",
                   help="weak-memory programs: the lowered TSO and PSO models against the "
                   "census and against an independent reference (tests/weakcheck.py)")
    args = p.parse_args(argv)
    args.out = args.out or ("reports/soak-weak.json" if args.weak else "reports/soak.json")
    out = Path(args.out)
    if out.suffix != ".json":
        p.error(f"--out must name a .json file: {args.out!r}")
    if out.exists() and out.is_dir():
        p.error(f"--out is a directory: {args.out!r}")
    return args


def check_one(job: tuple[int, int, bool]) -> dict[str, Any]:
    """Draws program i of the run seeded ``seed`` and compares every strategy on it
    (weak: on its TSO and PSO lowerings, and against the reference interpreter)."""
    seed, i, weak = job
    rp = _randprog()
    rng = random.Random(f"{seed}:{i}")
    spec = rp.random_program(rng, weak=True, guards=bool(rng.randint(0, 1))) if weak \
        else rp.random_program(rng)
    row: dict[str, Any] = {
        "index": i,
        "threads": len(spec.threads),
        "steps": spec.steps,
    }
    start = time.perf_counter()
    try:
        if weak:
            import weakcheck

            w = weakcheck.check_weak(spec)
            comparisons, mismatches = list(w.lowered.values()), w.mismatches
        else:
            c = rp.compare(spec)
            comparisons, mismatches = [c], c.mismatches
    except Exception as err:  # an engine crash is a finding, not the end of the run
        last = traceback.format_exception_only(type(err), err)[-1].strip()
        row.update(mismatches=[["error", f"compare raised {last}"]])
    else:
        row.update(
            classes=sum(c.classes for c in comparisons),
            schedules=sum(c.schedules for c in comparisons),
            optimal=sum(c.optimal for c in comparisons),
            dpor=sum(c.dpor for c in comparisons),
            optimal_sleep_blocked=sum(c.optimal_sleep_blocked for c in comparisons),
            dpor_sleep_blocked=sum(c.dpor_sleep_blocked for c in comparisons),
            naive_schedules=sum(c.naive for c in comparisons),
            violated=any(c.violated for c in comparisons),
            mismatches=[list(m) for m in mismatches],
        )
        if weak:
            row["weak_behaviour"] = w.weak
    row["seconds"] = round(time.perf_counter() - start, 4)
    if row["mismatches"]:
        row["program"] = str(spec)
        row["spec"] = repr(spec)
    return row


def _rows(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    jobs = [(args.seed, i, args.weak) for i in range(args.programs)]
    if args.jobs == 1:
        yield from map(check_one, jobs)
        return
    with Pool(args.jobs) as pool:
        yield from pool.imap(check_one, jobs, chunksize=16)


def summarise(rows: list[dict[str, Any]], args: argparse.Namespace, seconds: float,
              interrupted: bool) -> dict[str, Any]:
    ok = [r for r in rows if "classes" in r]
    total = {
        k: sum(r[k] for r in ok)
        for k in ("classes", "schedules", "optimal", "dpor", "optimal_sleep_blocked",
                  "dpor_sleep_blocked")
    }

    def worst(key: str, extra: str = "") -> dict[str, Any]:
        def runs(r: dict[str, Any]) -> int:
            return int(r[key] + (r[extra] if extra else 0))

        best = max(ok, key=lambda r: runs(r) / r["classes"], default=None)
        if best is None:
            return {"ratio": None, "index": None}
        return {"ratio": round(runs(best) / best["classes"], 4), "index": best["index"],
                "classes": best["classes"], "runs": runs(best)}

    checks: Counter[str] = Counter()
    for r in rows:
        for check in {m[0] for m in r["mismatches"]}:
            checks[check] += 1
    bad = [r for r in rows if r["mismatches"]]
    return {
        "programs": len(rows),
        "weak": args.weak,
        "weak_behaviour_programs": sum(1 for r in ok if r.get("weak_behaviour")),
        "requested": args.programs,
        "seed": args.seed,
        "interrupted": interrupted,
        "seconds": round(seconds, 2),
        "seconds_per_1000": round(1000 * seconds / len(rows), 2) if rows else None,
        "jobs": args.jobs,
        "totals": total,
        "violated_programs": sum(1 for r in ok if r["violated"]),
        "max_dpor_over_classes": worst("dpor"),
        # dpor runs, counting those cut short by their sleep set
        "max_dpor_runs_over_classes": worst("dpor", "dpor_sleep_blocked"),
        "max_optimal_over_classes": worst("optimal"),
        "mismatched_programs": len(bad),
        "mismatches_by_check": dict(sorted(checks.items())),
        "mismatches": [
            {k: r[k] for k in ("index", "program", "spec", "mismatches")} for r in bad
        ],
    }


def markdown(summary: dict[str, Any]) -> str:
    s, t = summary, summary["totals"]

    def ratio(a: int, b: int) -> str:
        return f"{a / b:.3f}" if b else "-"

    lines = [
        "# Soak: random programs, every strategy against the census",
        "",
    ]
    if s["weak"]:
        lines += [
            "Weak-memory programs (fences, release/acquire, RMW orders; half with waits "
            "and a lock). Each is lowered to TSO and to PSO (explorer/memory.py) and "
            "compared there with the census; and on SC, TSO and PSO its final and deadlock "
            "outcomes by census and optimal DPOR are compared with an independent "
            "interpreter of the machines (tests/memref.py). Counts below sum the TSO and "
            f"PSO lowerings. {s['weak_behaviour_programs']} programs show an outcome under "
            "TSO or PSO that SC does not have.",
            "",
        ]
    lines += [
        f"{s['programs']} programs (seed {s['seed']}"
        + (", interrupted" if s["interrupted"] else "")
        + f"), {s['seconds']} s ({s['seconds_per_1000']} s per 1000 programs, "
        + f"{s['jobs']} job{'s' if s['jobs'] != 1 else ''}).",
        "",
        "| | total | per class |",
        "|---|---:|---:|",
        f"| Mazurkiewicz classes (census) | {t['classes']} | 1.000 |",
        f"| optimal executions | {t['optimal']} | {ratio(t['optimal'], t['classes'])} |",
        f"| dpor executions | {t['dpor']} | {ratio(t['dpor'], t['classes'])} |",
        f"| schedules (census, naive) | {t['schedules']} | {ratio(t['schedules'], t['classes'])} |",
        f"| optimal sleep-blocked runs | {t['optimal_sleep_blocked']} | |",
        f"| dpor sleep-blocked runs | {t['dpor_sleep_blocked']} | |",
        "",
        f"Programs with a violation (deadlock or final property): {s['violated_programs']}.",
        f"Largest dpor/classes: {s['max_dpor_over_classes']['ratio']} "
        f"(program {s['max_dpor_over_classes']['index']}); counting sleep-blocked runs: "
        f"{s['max_dpor_runs_over_classes']['ratio']} "
        f"(program {s['max_dpor_runs_over_classes']['index']}); "
        f"largest optimal/classes: {s['max_optimal_over_classes']['ratio']} "
        f"(program {s['max_optimal_over_classes']['index']}).",
        "",
    ]
    if not s["mismatched_programs"]:
        lines.append("**No mismatch.**")
    else:
        lines += [
            f"**{s['mismatched_programs']} programs with mismatches.**",
            "",
            "| check | programs |",
            "|---|---:|",
        ]
        lines += [f"| {k} | {v} |" for k, v in s["mismatches_by_check"].items()]
        lines += ["", "First mismatches (redraw one: `random_program(random.Random("
                  f"\"{s['seed']}:INDEX\"))` from tests/randprog.py):", ""]
        for m in s["mismatches"][:5]:
            lines += [f"Program {m['index']}:", "", "```", m["program"], "```", ""]
            lines += [f"- {check}: {msg}" for check, msg in m["mismatches"]]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    out = Path(args.out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        print(f"soak: error: cannot create {out.parent}: {err.strerror}", file=sys.stderr)
        return 2
    rows: list[dict[str, Any]] = []
    start = time.perf_counter()
    interrupted = False
    bar = tqdm(total=args.programs, desc="soak", unit=" programs", file=sys.stderr,
               dynamic_ncols=True, mininterval=0.5, disable=not sys.stderr.isatty())
    try:
        for row in _rows(args):
            rows.append(row)
            bar.update(1)
            if row["mismatches"]:
                bar.set_postfix(mismatches=sum(1 for r in rows if r["mismatches"]))
    except KeyboardInterrupt:
        interrupted = True
    finally:
        bar.close()
    summary = summarise(rows, args, time.perf_counter() - start, interrupted)
    report = {**summary, "per_program": rows}
    md = out.with_suffix(".md")
    try:
        out.write_text(json.dumps(report, indent=1) + "\n")
        md.write_text(markdown(summary))
    except OSError as err:
        print(f"soak: error: cannot write {err.filename}: {err.strerror}", file=sys.stderr)
        return 2
    t = summary["totals"]
    print(
        f"soak: {summary['programs']} programs in {summary['seconds']} s: "
        f"{t['classes']} classes, optimal {t['optimal']}, dpor {t['dpor']}, "
        f"{summary['mismatched_programs']} with mismatches "
        f"({', '.join(f'{k} {v}' for k, v in summary['mismatches_by_check'].items()) or 'none'})"
        f"; wrote {out} and {md}"
    )
    if interrupted:
        return 130
    return 1 if summary["mismatched_programs"] else 0


if __name__ == "__main__":
    sys.exit(main())
