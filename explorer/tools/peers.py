"""`make bench-peers`: the explorer side by side with GenMC 0.11 and SPIN 6.5.2 in one run.

The peers' models of this protocol are in ../shared/peers (not part of the
project; `setup.sh` there installs what they need). Every measurement is its
own process, timed from fork to exit (`os.wait4`: wall time and peak RSS of
the process and the children it waited for); repetitions are interleaved
(each repetition runs every tool on every case) so that the machine's drift
hits every tool alike, and ratios are medians of per-repetition ratios.

Two families of matched scenarios (../shared/peers/README.md):
  genmc: `gmem_freeze.c -DPERCPU` (classic SRCU with per-CPU counters, cold
         page cache, fallocate allocates) against `--srcu impl --set present=
         --set fallocate.K.mode=allocate`;
  spin:  `classic_sc.pml` / `classic_tso.pml` edited to the explorer's bench
         scenario (page 0 present, fallocate allocates or punches) against
         `--srcu impl` on the same settings.
Whole process: what a user waits for (the explorer: interpreter start,
imports, model compilation, search, report; GenMC: its clang front end and
exploration; SPIN: spin -a, gcc and pan). Engine only: the explorer's search
time from its JSON, GenMC's own "Total wall-clock time", pan's time.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..args import OneLineParser, positive_int

GENMC_SIZES = ((1, 0), (2, 1), (3, 1), (4, 1), (5, 1))
SPIN_SIZES = ((2, 1), (3, 1))
EXPLORER = ("optimal", "graph")


@dataclass(frozen=True)
class Case:
    """One matched scenario: a peer's model and the explorer's settings for it."""

    family: str  # "genmc" or "spin"
    ngf: int
    nfa: int
    memory_model: str

    @property
    def name(self) -> str:
        return f"{self.family}/({self.ngf},{self.nfa})/{self.memory_model}"

    def explorer_settings(self) -> list[str]:
        sets = {"get_folio": str(self.ngf), "fallocate": str(self.nfa), "pages": "2"}
        if self.family == "genmc":
            sets["present"] = ""
            sets.update({f"fallocate.{k}.mode": "allocate" for k in range(self.nfa)})
        out: list[str] = []
        for k, v in sets.items():
            out += ["--set", f"{k}={v}"]
        return out

    def tools(self) -> tuple[str, ...]:
        peer = () if self.memory_model == "pso" else (self.family,)
        return peer + EXPLORER


@dataclass
class Run:
    """One measurement (one process)."""

    case: str
    tool: str
    rep: int
    finished: bool
    verdict: str = ""
    executions: int | None = None
    blocked: int | None = None  # GenMC: blocked executions; explorer: runs cut off at a retry
    states: int | None = None  # SPIN: states stored
    whole_s: float = 0.0
    engine_s: float | None = None
    rss_mb: float = 0.0
    note: str = ""


@dataclass
class Bench:
    peers: Path
    reps: int
    timeout: float
    runs: list[Run] = field(default_factory=list)
    startup: list[dict[str, float]] = field(default_factory=list)


def timed(cmd: Sequence[str], timeout: float, cwd: str | None = None,
          env: dict[str, str] | None = None) -> tuple[bool, str, float, float]:
    """Runs cmd; (finished in time, output, wall seconds, peak RSS in MB)."""
    with tempfile.TemporaryFile("w+") as out:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, env=env,
                             start_new_session=True)
        deadline = t0 + timeout
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                os.killpg(p.pid, 9)
                _, status, ru = os.wait4(p.pid, 0)
                wall = time.perf_counter() - t0
                out.seek(0)
                return False, out.read(), wall, ru.ru_maxrss / 1024
            time.sleep(0.005)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        return True, out.read(), wall, ru.ru_maxrss / 1024


def explorer_cmd() -> list[str]:
    script = Path(sys.executable).parent / "explorer"
    return [str(script)] if script.exists() else [sys.executable, "-m", "explorer"]


def run_explorer(case: Case, strategy: str, rep: int, timeout: float) -> Run:
    cmd = explorer_cmd() + ["check", "--srcu", "impl", "--memory-model", case.memory_model,
                            "--strategy", strategy, "--json", *case.explorer_settings()]
    ok, out, wall, rss = timed(cmd, timeout)
    r = Run(case.name, strategy, rep, False, whole_s=wall, rss_mb=rss)
    if not ok:
        r.note = f"out of time ({timeout:g} s)"
        return r
    try:
        data = json.loads(out[out.index("{"):])
    except ValueError:
        r.note = "no JSON: " + out.strip().splitlines()[-1][:120] if out.strip() else "no output"
        return r
    r.finished = bool(data.get("complete")) or data.get("verdict") == "violated"
    r.verdict = data["verdict"]
    r.blocked = data.get("cut_off", 0)  # counted among its executions, as GenMC's are not
    r.executions = data["executions"] - r.blocked
    r.engine_s = data["seconds"]
    return r


_GENMC_COMPLETE = re.compile(r"Number of complete executions explored: (\d+)")
_GENMC_BLOCKED = re.compile(r"Number of blocked executions seen: (\d+)")
_GENMC_TIME = re.compile(r"Total wall-clock time: ([\d.]+)s")


def parse_genmc(out: str) -> tuple[str, int | None, int | None, float | None]:
    """GenMC's summary: verdict, complete and blocked executions, its own time."""
    def num(rx: re.Pattern[str]) -> str | None:
        m = rx.search(out)
        return m.group(1) if m else None

    verdict = ("holds" if "No errors were detected" in out
               else "violated" if "Error detected" in out or "Assertion violation" in out
               else "unknown")
    c, b, t = num(_GENMC_COMPLETE), num(_GENMC_BLOCKED), num(_GENMC_TIME)
    return (verdict, int(c) if c else None, int(b) if b else None,
            float(t) if t else None)


def run_genmc(peers: Path, case: Case, rep: int, timeout: float) -> Run:
    cmd = ["bash", str(peers / "genmc" / "run.sh"), str(case.ngf), str(case.nfa),
           case.memory_model]
    ok, out, wall, rss = timed(cmd, timeout)
    r = Run(case.name, "genmc", rep, False, whole_s=wall, rss_mb=rss)
    if not ok:
        r.note = f"out of time ({timeout:g} s)"
        return r
    r.verdict, r.executions, r.blocked, r.engine_s = parse_genmc(out)
    r.finished = r.verdict in ("holds", "violated") and r.executions is not None
    if not r.finished:
        r.note = "unparsed output: " + (out.strip().splitlines() or [""])[-1][:120]
    return r


_SPIN = re.compile(r"SPINRESULT (.*)")


def parse_spin(out: str) -> dict[str, str]:
    m = _SPIN.search(out)
    return dict(kv.split("=", 1) for kv in m.group(1).split()) if m else {}


def run_spin(peers: Path, case: Case, rep: int, timeout: float, work: Path) -> Run:
    model = f"classic_{case.memory_model}"
    job = work / f"{model}-{case.ngf}-{case.nfa}"
    env = dict(os.environ, SPIN_MODELS=str(peers / "spin"), REBUILD="1")
    cmd = ["bash", str(peers / "spin" / "spin_job.sh"), model, str(case.ngf), str(case.nfa),
           "1", "fixed", str(job)]
    ok, out, wall, rss = timed(cmd, timeout, env=env)
    r = Run(case.name, "spin", rep, False, whole_s=wall, rss_mb=rss)
    if not ok:
        r.note = f"out of time ({timeout:g} s)"
        return r
    f = parse_spin(out)
    if not f or f.get("oom") not in ("0", None) or not f.get("states"):
        r.note = "out of memory" if f.get("oom", "0") != "0" else "no SPINRESULT"
        return r
    r.finished = True
    r.verdict = "holds" if f.get("errors") == "0" else "violated"
    r.states = int(float(f["states"]))
    r.engine_s = float(f["pan_s"])
    if f.get("pan_rss_kb"):
        r.rss_mb = max(r.rss_mb, int(f["pan_rss_kb"]) / 1024)
    return r


STARTUP = (
    "import time; t0 = time.perf_counter(); from explorer import cli, api; "
    "t1 = time.perf_counter(); "
    "api.prepare('guest_memfd', None, {{'get_folio': '{n}', 'fallocate': '1', 'pages': '2', "
    "'present': '', 'fallocate.0.mode': 'allocate'}}, srcu='impl'); "
    "t2 = time.perf_counter(); print(t1 - t0, t2 - t1)"
)


def startup(n: int) -> dict[str, float]:
    """Interpreter start alone, then the explorer's imports and model compilation."""
    _, _, bare, _ = timed([sys.executable, "-c", "pass"], 60)
    ok, out, wall, _ = timed([sys.executable, "-c", STARTUP.format(n=n)], 60)
    imports, compile_s = (float(x) for x in out.split()[-2:])
    return {"interpreter_s": bare, "imports_s": imports, "compile_s": compile_s,
            "whole_s": wall}


def cases(families: Sequence[str], max_ngf: int) -> list[Case]:
    out = []
    if "genmc" in families:
        out += [Case("genmc", n, m, mm) for mm in ("sc", "tso", "pso")
                for n, m in GENMC_SIZES if n <= max_ngf]
    if "spin" in families:
        out += [Case("spin", n, m, mm) for mm in ("sc", "tso") for n, m in SPIN_SIZES
                if n <= max_ngf]
    return out


def run_all(bench: Bench, todo: list[Case], log: Any) -> None:
    """Interleaved repetitions; a tool out of time on a case is not run on the bigger
    cases of its family and memory model (they are reported as not run)."""
    given_up: dict[tuple[str, str, str], int] = {}  # (family, mm, tool) -> ngf it failed at
    work = Path(tempfile.mkdtemp(prefix="peers-"))
    try:
        for rep in range(bench.reps):
            bench.startup.append(startup(3))
            for case in todo:
                for tool in case.tools():
                    key = (case.family, case.memory_model, tool)
                    g = given_up.get(key)
                    if g is not None and (case.ngf > g or case.ngf == g and rep > 0):
                        continue
                    if tool == "genmc":
                        r = run_genmc(bench.peers, case, rep, bench.timeout)
                    elif tool == "spin":
                        r = run_spin(bench.peers, case, rep, bench.timeout, work)
                    else:
                        r = run_explorer(case, tool, rep, bench.timeout)
                    bench.runs.append(r)
                    if not r.finished and key not in given_up:
                        given_up[key] = case.ngf
                    print(f"rep {rep} {case.name:22} {tool:8} "
                          + (f"{r.whole_s:7.2f} s {r.executions or r.states} {r.verdict}"
                             if r.finished else r.note), file=log, flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


# -- the report ------------------------------------------------------------------------


def _med(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def summary(bench: Bench) -> dict[str, dict[str, Any]]:
    """Per case and tool: medians over the finished repetitions, and the per-repetition
    ratios against the case's peer (whole process, and explorer engine / peer whole)."""
    by: dict[tuple[str, str], list[Run]] = {}
    for r in bench.runs:
        by.setdefault((r.case, r.tool), []).append(r)
    out: dict[str, dict[str, Any]] = {}
    for (case, tool), runs in by.items():
        done = [r for r in runs if r.finished]
        row: dict[str, Any] = {
            "runs": len(runs), "finished": len(done),
            "note": next((r.note for r in runs if not r.finished), ""),
            "verdicts": sorted({r.verdict for r in done}),
            "executions": done[0].executions if done else None,
            "blocked": done[0].blocked if done else None,
            "states": done[0].states if done else None,
            "whole_s": _med([r.whole_s for r in done]),
            "engine_s": _med([r.engine_s for r in done if r.engine_s is not None]),
            "rss_mb": max((r.rss_mb for r in done), default=None),
        }
        peer = "genmc" if case.startswith("genmc") else "spin"
        if tool != peer:
            peers = {r.rep: r for r in by.get((case, peer), []) if r.finished}
            pairs = [(r, peers[r.rep]) for r in done if r.rep in peers]
            row["ratio_whole"] = _med([r.whole_s / p.whole_s for r, p in pairs])
            row["ratio_engine"] = _med([r.engine_s / p.whole_s for r, p in pairs
                                        if r.engine_s is not None])
        out.setdefault(case, {})[tool] = row
    return out


def _f(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def _n(x: int | None) -> str:
    return "-" if x is None else f"{x:,}"


def _cell(row: dict[str, Any] | None) -> str:
    if row is None:
        return "not run (out of time on a smaller case)"
    if not row["finished"]:
        return row["note"] or "did not finish"
    return f"{_n(row['executions'] if row['executions'] is not None else row['states'])}"


def markdown(bench: Bench, meta: dict[str, str]) -> str:
    s = summary(bench)
    su = bench.startup
    lines = [
        "# The explorer side by side with GenMC and SPIN (`make bench-peers`)", "",
        f"One run on {meta['machine']}, {meta['date']}; {bench.reps} interleaved repetitions, "
        f"each measurement its own process (wall time and peak RSS from `wait4`), "
        f"{bench.timeout:g} s limit per run. Times are medians; ratios are medians of "
        "per-repetition ratios. **Whole**: the whole process (explorer: interpreter, imports, "
        "model compilation, search, report; GenMC: its clang front end and exploration; "
        "SPIN: spin -a, gcc, pan). **Engine**: the explorer's search time (its JSON "
        "`seconds`), GenMC's own reported time, pan alone. Peers: "
        f"{meta['genmc']}, {meta['spin']}; models in ../shared/peers (its README).", "",
        "## Start-up (measured on its own)", "",
        "| interpreter alone (s) | explorer imports (s) | model compilation, (3,1) impl (s) | "
        "whole (s) |", "|---:|---:|---:|---:|",
        f"| {_f(_med([x['interpreter_s'] for x in su]), 3)} | "
        f"{_f(_med([x['imports_s'] for x in su]), 3)} | "
        f"{_f(_med([x['compile_s'] for x in su]), 3)} | "
        f"{_f(_med([x['whole_s'] for x in su]), 3)} |", "",
    ]
    for family, title in (
        ("genmc", "GenMC 0.11, `gmem_freeze.c -DPERCPU` (cold cache, fallocate allocates), "
                  "against `--srcu impl --set present= --set fallocate.K.mode=allocate`"),
        ("spin", "SPIN 6.5.2, `classic_{sc,tso}.pml` edited to the explorer's bench scenario "
                 "(page 0 present), against `--srcu impl` on the same settings"),
    ):
        keys = [k for k in s if k.startswith(family + "/")]
        if not keys:
            continue
        peer = family
        unit = "executions (+blocked)" if family == "genmc" else "states"
        lines += [f"## {title}", "",
                  f"Peer: {unit}; explorer: complete executions (+runs cut off at a retry, "
                  "the analogue of GenMC's blocked ones). "
                  "Ratio: explorer / peer, whole process; engine: explorer's search time / "
                  "peer's whole process.", "",
                  f"| case | {peer} | {peer} whole (s) | {peer} engine (s) | {peer} RSS (MB) | "
                  + " | ".join(f"{t} | {t} whole (s) | {t} engine (s) | {t} RSS (MB) | "
                               f"{t} / {peer} whole | {t} engine / {peer} whole"
                               for t in EXPLORER) + " |",
                  "|---" * (5 + 6 * len(EXPLORER)) + "|"]
        for k in keys:
            row = s[k]
            cells = [k]
            p = row.get(peer)
            if p is None:
                cells += ["(no peer)", "-", "-", "-"]
            else:
                cnt = _cell(p)
                if p["finished"] and p["blocked"] is not None:
                    cnt += f" (+{_n(p['blocked'])})"
                cells += [cnt, _f(p["whole_s"]), _f(p["engine_s"]), _f(p["rss_mb"], 0)]
            for t in EXPLORER:
                e = row.get(t)
                cnt = _cell(e)
                if e is not None and e["finished"]:
                    cnt += f" (+{_n(e['blocked'])})"
                    cells += [cnt, _f(e["whole_s"]), _f(e["engine_s"]), _f(e["rss_mb"], 0),
                              _f(e.get("ratio_whole")), _f(e.get("ratio_engine"))]
                else:
                    cells += [cnt, "-", "-", "-", "-", "-"]
            lines.append("| " + " | ".join(cells) + " |")
        lines += ["", "Growth per added get_folio thread (executions, or states for SPIN; "
                  "consecutive finished sizes with one fallocate):", ""]
        for mm in ("sc", "tso", "pso"):
            for t in (peer, *EXPLORER):
                pts = []
                for k in keys:
                    parts = k.split("/")
                    e = s[k].get(t)
                    if parts[2] == mm and parts[1].endswith(",1)") and e and e["finished"]:
                        pts.append(e["executions"] if e["executions"] is not None
                                   else e["states"])
                g = [b / a for a, b in zip(pts, pts[1:], strict=False) if a]
                if g:
                    lines.append(f"- {mm}, {t}: " + ", ".join(f"{x:.1f}x" for x in g))
        lines.append("")
    lines += ["## Verdicts", "", disagreements(s), "",
              "## Targets of issue 13 in this run", ""] + targets(s, su) + [""]
    return "\n".join(lines)


def disagreements(s: dict[str, dict[str, Any]]) -> str:
    """One line: whether every tool that finished a case reached the same verdict."""
    bad = []
    for case, row in s.items():
        seen = {v for r in row.values() for v in r["verdicts"]}
        if len(seen) > 1:
            said = ", ".join(f"{t}: {'/'.join(r['verdicts'])}" for t, r in row.items())
            bad.append(f"{case} ({said})")
    verdicts = sorted({v for row in s.values() for r in row.values() for v in r["verdicts"]})
    if bad:
        return "Tools disagree on: " + "; ".join(bad)
    return f"Every tool that finished a case reached the same verdict ({', '.join(verdicts)})."


STARTUP_TARGET = 0.15  # seconds: interpreter, imports and model compilation


def targets(s: dict[str, dict[str, Any]], startup: list[dict[str, float]] | None = None
            ) -> list[str]:
    """Each target of issue 13, met or not, from this run's figures."""
    out = []
    if startup:
        whole = statistics.median(x["whole_s"] for x in startup)
        out.append(f"- start-up (imports and model compilation, whole process) under "
                   f"{STARTUP_TARGET:g} s: {'met' if whole < STARTUP_TARGET else 'not met'} "
                   f"({whole:.3f} s)")
    for t in EXPLORER:
        bad_ex, bad_all, bad_time, bad_engine, bad_rss, missing = [], [], [], [], [], []
        timed_big = 0
        for k, row in s.items():
            if not k.startswith("genmc/") or k.endswith("/pso"):
                continue
            g, e = row.get("genmc"), row.get(t)
            if not (g and g["finished"]):
                continue
            if not (e and e["finished"]):
                missing.append(k)
                continue
            if e["executions"] > g["executions"]:
                bad_ex.append(k)
            if e["executions"] + (e["blocked"] or 0) > g["executions"] + (g["blocked"] or 0):
                bad_all.append(k)
            if e.get("ratio_whole") is not None and k.split("/")[1] in ("(3,1)", "(4,1)", "(5,1)"):
                timed_big += 1
                if e["ratio_whole"] >= 1:
                    bad_time.append(k)
            if e.get("ratio_engine") is not None and e["ratio_engine"] > 1:
                bad_engine.append(k)
            if e["rss_mb"] is not None and g["rss_mb"] is not None and e["rss_mb"] >= g["rss_mb"]:
                bad_rss.append(k)

        def said(xs: list[str]) -> str:
            return "met" if not xs else "not met: " + ", ".join(xs)

        big = said(bad_time) if timed_big else "not measured (did not finish there)"
        out += [
            f"- {t}: complete executions at or below GenMC's: {said(bad_ex)}",
            f"- {t}: all executions (with those cut off at a retry / blocked) at or below "
            f"GenMC's: {said(bad_all)}",
            f"- {t}: whole process faster than GenMC at (3,1) to (5,1): {big}",
            f"- {t}: engine at or below GenMC's whole process: {said(bad_engine)}",
            f"- {t}: peak RSS below GenMC's: {said(bad_rss)}",
            f"- {t}: cases GenMC finished and {t} did not: {', '.join(missing) or 'none'}",
            f"- {t}: {weak_vs_sc(s, t)}",
        ]
    return out


def weak_vs_sc(s: dict[str, dict[str, Any]], tool: str) -> str:
    """TSO and PSO against SC on each GenMC-scenario size the tool finished on both:
    complete executions, and all of them (with those cut off at a retry)."""
    more, more_all, pairs = [], [], 0
    for k, row in s.items():
        if not k.startswith("genmc/") or k.endswith("/sc"):
            continue
        e, base = row.get(tool), s.get(k.rsplit("/", 1)[0] + "/sc", {}).get(tool)
        if not (e and e["finished"] and base and base["finished"]):
            continue
        pairs += 1
        if e["executions"] > base["executions"]:
            more.append(k)
        if e["executions"] + (e["blocked"] or 0) > base["executions"] + (base["blocked"] or 0):
            more_all.append(k)
    if not pairs:
        return "TSO/PSO against SC: not measured (no size finished on both)"
    return (f"TSO/PSO complete executions no more than SC's ({pairs} sizes): "
            + ("met" if not more else "not met: " + ", ".join(more))
            + "; with those cut off at a retry: "
            + ("met" if not more_all else "not met: " + ", ".join(more_all)))


def versions(peers: Path) -> tuple[str, str]:
    def first(cmd: list[str]) -> str:
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return "unavailable"
        text = (p.stdout + p.stderr).strip().splitlines()
        return text[0].strip() if text else "unavailable"

    return (first([str(peers / "genmc" / "genmc"), "--version"]).rstrip(":") or "GenMC",
            first(["spin", "-V"]))


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog="python -m explorer.tools.peers")
    parser.add_argument("--peers", default="../shared/peers", help="the peers' directory")
    parser.add_argument("--reps", type=positive_int, default=3)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per run")
    parser.add_argument("--max-get-folio", type=positive_int, default=5)
    parser.add_argument("--family", action="append", choices=("genmc", "spin"))
    parser.add_argument("--out", default="reports", help="directory for peers.json/md")
    parser.add_argument("--render", metavar="JSON",
                        help="only write peers.md again from a peers.json this tool wrote")
    args = parser.parse_args(argv)
    if args.render:
        return render(Path(args.render), Path(args.out))
    peers = Path(args.peers)
    if not (peers / "genmc" / "run.sh").exists():
        print(f"explorer: error: no peers at {peers} (see ../shared/peers/README.md)",
              file=sys.stderr)
        return 2
    bench = Bench(peers.resolve(), args.reps, args.timeout)
    run_all(bench, cases(args.family or ("genmc", "spin"), args.max_get_folio), sys.stderr)
    g, sp = versions(peers)
    meta = {"machine": f"{os.cpu_count()} cores, Python {platform.python_version()}",
            "date": time.strftime("%Y-%m-%d"), "genmc": g, "spin": sp}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = {"meta": meta, "reps": bench.reps, "timeout": bench.timeout,
            "startup": bench.startup, "runs": [asdict(r) for r in bench.runs],
            "summary": summary(bench)}
    (out / "peers.json").write_text(json.dumps(data, indent=2) + "\n")
    (out / "peers.md").write_text(markdown(bench, meta))
    print(f"wrote {out / 'peers.json'}, {out / 'peers.md'}")
    return 0


def render(src: Path, out: Path) -> int:
    try:
        data = json.loads(src.read_text())
        bench = Bench(Path("."), data["reps"], data["timeout"],
                      [Run(**r) for r in data["runs"]], data["startup"])
    except (OSError, ValueError, KeyError, TypeError) as err:
        print(f"explorer: error: {src}: not a peers.json ({err})", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    (out / "peers.md").write_text(markdown(bench, data["meta"]))
    print(f"wrote {out / 'peers.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
