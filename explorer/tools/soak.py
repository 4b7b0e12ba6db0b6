"""Soak run: random programs of every shape class, every engine against the census.

    python -m explorer.tools.soak [--programs N] [--shapes A,B] [--seed S] [--jobs J]
                         [--out reports/soak.json] [--shrink-seconds T] [--max-shrinks K]

Draws N programs PER shape class with tests/langgen.py (program i of class C
comes from random.Random(f"{S}:{C}:{i}"), so any one of them can be redrawn
alone: langgen.soak_spec(S, C, i)) and runs tests/langcheck.check on each:
census, naive, stateful, dpor, optimal and graph (also in collect mode), prove on
one in four of the small ones, the independent reference interpreter, the
load-time refusals, the retry references and, for the ``weak`` class and one
program in three of every other class, the TSO and PSO lowerings (and
tests/memref.py where it applies). The first program of each (class, check) that
fails is shrunk (langcheck.shrink) to a minimal program, printed with its
repr so that it can be pasted into a regression test. Writes the totals per
class, and the rows of the programs that mismatched (any other one is
redrawn from its seed), to the JSON file and a summary next to it (same
name, .md).
Exit status: 0 if every program agrees, 1 on any mismatch, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import json
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

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
COUNTS = ("classes", "schedules", "optimal", "dpor", "graph", "symmetric", "dpor_sleep_blocked")
PROVE_EVERY = 4  # z3 is the slowest check: on one program in four (those small enough)
SYMMETRY_EVERY = 2  # every other program also run with its first thread twice (--symmetry)
LOWER_EVERY = 3  # programs of every class also checked on their TSO/PSO lowerings


def _tests() -> tuple[Any, Any]:
    """The test suite's generator and checker (tests/ is not a package)."""
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))
    import langcheck
    import langgen

    return langgen, langcheck


def _seed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    shapes = _tests()[0].SHAPES
    p = OneLineParser(prog="python -m explorer.tools.soak", description=__doc__.split("\n\n")[0])
    p.add_argument("--programs", type=positive_int, default=10_000,
                   help="how many per shape class (default 10000)")
    p.add_argument("--shapes", default=",".join(shapes),
                   help=f"comma-separated shape classes (default all: {','.join(shapes)})")
    p.add_argument("--seed", type=_seed, default=0, help="seed of the run (default 0)")
    p.add_argument("--out", default="reports/soak.json",
                   help="JSON report (default reports/soak.json); the .md goes next to it")
    p.add_argument("--jobs", type=positive_int, default=1, help="worker processes (default 1)")
    p.add_argument("--shrink-seconds", type=positive_int, default=60,
                   help="time to shrink one failing program (default 60)")
    p.add_argument("--max-shrinks", type=int, default=40,
                   help="failing programs to shrink, first of each (class, check) (default 40)")
    args = p.parse_args(argv)
    args.shapes = [s for s in args.shapes.split(",") if s]
    unknown = [s for s in args.shapes if s not in shapes]
    if unknown or not args.shapes:
        p.error(f"unknown shape class {unknown[0] if unknown else '(none)'!r} "
                f"(known: {', '.join(shapes)})")
    out = Path(args.out)
    if out.suffix != ".json":
        p.error(f"--out must name a .json file: {args.out!r}")
    if out.exists() and out.is_dir():
        p.error(f"--out is a directory: {args.out!r}")
    return args


def check_one(job: tuple[int, str, int]) -> dict[str, Any]:
    """Draws program i of class ``shape`` in the run seeded ``seed`` and checks it."""
    seed, shape, i = job
    lg, lc = _tests()
    row: dict[str, Any] = {"shape": shape, "index": i}
    start = time.perf_counter()
    spec = None
    try:
        spec = lg.soak_spec(seed, shape, i)
        row.update(threads=len(spec.m.threads), events=spec.events)
        c = lc.check(spec, prove=i % PROVE_EVERY == 0, lowered=i % LOWER_EVERY == 0,
                     symmetric=i % SYMMETRY_EVERY == 0)
    except Exception as err:  # a crash is a finding, not the end of the run
        last = traceback.format_exception_only(type(err), err)[-1].strip()
        row.update(mismatches=[["error", f"check raised {last}"]])
    else:
        row.update({k: getattr(c, k) for k in COUNTS}, violated=c.violated,
                   refused=c.refused, must_refuse=c.must_refuse, proved=c.proved,
                   lowered=c.lowered,
                   weak_behaviour=c.weak_behaviour,
                   mismatches=[list(m) for m in c.mismatches])
    row["seconds"] = round(time.perf_counter() - start, 4)
    if row["mismatches"] and spec is not None:
        row["program"] = str(spec)
        row["spec"] = repr(spec)
    return row


def shrink_one(job: tuple[int, str, int, str, int]) -> dict[str, Any]:
    seed, shape, i, target, seconds = job
    lg, lc = _tests()
    start = time.perf_counter()
    spec = lg.soak_spec(seed, shape, i)
    small = lc.shrink(spec, target, float(seconds))
    found = lc.check(small, prove=target.startswith("prove"))
    return {"shape": shape, "index": i, "check": target, "program": str(small),
            "spec": repr(small), "messages": found.failed(target),
            "seconds": round(time.perf_counter() - start, 2)}


def _pool_map(fn: Any, jobs: list[Any], n: int, chunk: int) -> Iterator[Any]:
    if n == 1:
        yield from map(fn, jobs)
        return
    with Pool(n) as pool:
        yield from pool.imap(fn, jobs, chunksize=chunk)


def _to_shrink(rows: list[dict[str, Any]], limit: int) -> list[tuple[str, int, str]]:
    """The first failing program of each (class, check), each program once."""
    seen: set[tuple[str, str]] = set()
    done: set[tuple[str, int]] = set()
    out = []
    for r in rows:
        for check, _ in r["mismatches"]:
            key = (r["shape"], check)
            if key in seen or (r["shape"], r["index"]) in done or "program" not in r:
                continue
            seen.add(key)
            done.add((r["shape"], r["index"]))
            out.append((r["shape"], r["index"], check))
    return out[:limit]


def _row_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r for r in rows if "classes" in r]
    checks: Counter[str] = Counter()
    for r in rows:
        for check in {m[0] for m in r["mismatches"]}:
            checks[check] += 1
    seconds = sum(r["seconds"] for r in rows)
    return {
        "programs": len(rows),
        **{k: sum(r[k] for r in ok) for k in COUNTS},
        "violated_programs": sum(1 for r in ok if r["violated"]),
        "refused_programs": sum(1 for r in ok if r["refused"]),
        "must_refuse_programs": sum(1 for r in rows if r.get("must_refuse")),
        "proved_programs": sum(1 for r in ok if r["proved"]),
        "lowered_programs": sum(1 for r in ok if r.get("lowered")),
        "weak_behaviour_programs": sum(1 for r in ok if r["weak_behaviour"]),
        "mismatched_programs": sum(1 for r in rows if r["mismatches"]),
        "mismatches_by_check": dict(sorted(checks.items())),
        "cpu_seconds": round(seconds, 2),
        "seconds_per_1000": round(1000 * seconds / len(rows), 2) if rows else None,
    }


def summarise(rows: list[dict[str, Any]], shrunk: list[dict[str, Any]],
              args: argparse.Namespace, seconds: float, interrupted: bool) -> dict[str, Any]:
    per_shape = {s: _row_summary([r for r in rows if r["shape"] == s]) for s in args.shapes}
    bad = [r for r in rows if r["mismatches"]]
    first = []
    for s in args.shapes:
        first += [r for r in bad if r["shape"] == s][:3]
    return {
        "programs_per_shape": args.programs,
        "shapes": args.shapes,
        "seed": args.seed,
        "interrupted": interrupted,
        "seconds": round(seconds, 2),
        "jobs": args.jobs,
        "per_shape": per_shape,
        "total": _row_summary(rows),
        "first_mismatches": [
            {k: r[k] for k in ("shape", "index", "program", "spec", "mismatches")}
            for r in first],
        "shrunk": shrunk,
    }


def markdown(s: dict[str, Any]) -> str:
    lines = [
        "# Soak: random programs by shape class, every engine against the census",
        "",
        f"{s['programs_per_shape']} programs per shape class (tests/langgen.py, seed "
        f"{s['seed']}" + (", interrupted" if s["interrupted"] else "") + f"), "
        f"{s['seconds']} s with {s['jobs']} job{'s' if s['jobs'] != 1 else ''}; each "
        "checked by tests/langcheck.py (census, naive, stateful, dpor, optimal, graph, collect "
        "mode, "
        "prove on one program in four of those small enough, the reference interpreter "
        "tests/langref.py, load-time refusals, retry references, TSO/PSO lowerings for "
        "`weak` and one program in three of every other class (*TSO/PSO*: those small "
        "enough), tests/memref.py; *symmetry*: of every other program, those small enough "
        "with their first thread run twice, explored by the graph strategy with --symmetry "
        "and required to reach every orbit of its graphs without, each once, "
        "tests/symcheck.py). Traces are "
        "the census's Mazurkiewicz classes; *refused* counts programs the engine refused "
        "at load, *must refuse* those it must refuse (an invalid retry loop, a sticky "
        "invariant a reachable step makes true again; a sticky invariant that is not a "
        "latch may be refused when z3 finds an unreachable state that undoes it); "
        "*s/1000* is CPU seconds per 1000 programs.",
    ]
    if "weak" in s["per_shape"]:
        lines.append(f"{s['per_shape']['weak']['weak_behaviour_programs']} weak programs reach "
                     "a final memory under TSO or PSO that SC does not.")
    lines += [
        "",
        "| class | programs | traces | optimal | dpor | graph | symmetry | schedules | violated "
        "| refused | must refuse | proved | TSO/PSO | mismatched | s/1000 | mismatches by check |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, r in [*s["per_shape"].items(), ("**total**", s["total"])]:
        by = ", ".join(f"{k} {v}" for k, v in r["mismatches_by_check"].items()) or "-"
        lines.append(
            f"| {name} | {r['programs']} | {r['classes']} | {r['optimal']} | {r['dpor']} | "
            f"{r.get('graph', '-')} | {r.get('symmetric', '-')} | "
            f"{r['schedules']} | {r['violated_programs']} | {r['refused_programs']} | "
            f"{r['must_refuse_programs']} | {r['proved_programs']} | "
            f"{r['lowered_programs']} | {r['mismatched_programs']} | "
            f"{r['seconds_per_1000']} | {by} |")
    lines.append("")
    if not s["total"]["mismatched_programs"]:
        lines.append("**No mismatch.**")
        return "\n".join(lines) + "\n"
    if s["shrunk"]:
        lines += ["## Shrunk programs", "",
                  "The first failing program of each (class, check), shrunk while that check "
                  "still fails (langcheck.shrink). Paste the repr into a test: "
                  "`eval(REPR, vars(langgen))`.", ""]
        for m in s["shrunk"]:
            lines += [f"### {m['shape']} #{m['index']}: {m['check']}", "", "```",
                      m["program"], "```", "", "```python", m["spec"], "```", ""]
            lines += [f"- {msg}" for msg in m["messages"]]
            lines.append("")
    lines += ["## First mismatches", "",
              f"Redraw one: `langgen.soak_spec({s['seed']}, CLASS, INDEX)`.", ""]
    for m in s["first_mismatches"]:
        lines += [f"### {m['shape']} #{m['index']}", "", "```", m["program"], "```", ""]
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
    jobs = [(args.seed, shape, i) for shape in args.shapes for i in range(args.programs)]
    bar = tqdm(total=len(jobs), desc="soak", unit=" programs", file=sys.stderr,
               dynamic_ncols=True, mininterval=0.5, disable=not sys.stderr.isatty())
    shrunk: list[dict[str, Any]] = []
    try:
        for row in _pool_map(check_one, jobs, args.jobs, 8):
            rows.append(row)
            bar.update(1)
            if row["mismatches"]:
                bar.set_postfix(mismatches=sum(1 for r in rows if r["mismatches"]))
        bar.close()
        todo = [(args.seed, shape, i, check, args.shrink_seconds)
                for shape, i, check in _to_shrink(rows, args.max_shrinks)]
        for found in _pool_map(shrink_one, todo, args.jobs, 1):
            shrunk.append(found)
            print(f"soak: shrunk {found['shape']} #{found['index']} ({found['check']}) in "
                  f"{found['seconds']} s", file=sys.stderr)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        bar.close()
    summary = summarise(rows, shrunk, args, time.perf_counter() - start, interrupted)
    # 10,000 programs per class make a report too big to keep: rows of programs
    # that agree are left out (each is redrawn by langgen.soak_spec).
    report = {**summary, "mismatched_rows": [r for r in rows if r["mismatches"]]}
    md = out.with_suffix(".md")
    try:
        out.write_text(json.dumps(report, indent=1) + "\n")
        md.write_text(markdown(summary))
    except OSError as err:
        print(f"soak: error: cannot write {err.filename}: {err.strerror}", file=sys.stderr)
        return 2
    t = summary["total"]
    print(
        f"soak: {t['programs']} programs in {summary['seconds']} s: {t['classes']} traces, "
        f"optimal {t['optimal']}, dpor {t['dpor']}, {t['mismatched_programs']} with mismatches "
        f"({', '.join(f'{k} {v}' for k, v in t['mismatches_by_check'].items()) or 'none'})"
        f"; wrote {out} and {md}"
    )
    if interrupted:
        return 130
    return 1 if t["mismatched_programs"] else 0


if __name__ == "__main__":
    sys.exit(main())
