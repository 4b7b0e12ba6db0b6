"""`make bench-peers` (explorer/tools/peers.py): what it reads from the peers' output and
how it turns runs into ratios and targets. The peers themselves run only under
`make bench-peers` (they need ../shared/peers and its setup)."""

from __future__ import annotations

from pathlib import Path

from explorer.tools.peers import Bench, Case, Run, markdown, parse_genmc, parse_spin, summary

GENMC_OUT = """*** Compilation complete.
*** Verification complete.
No errors were detected.
Number of complete executions explored: 438
Number of blocked executions seen: 1816
Total wall-clock time: 0.22s
"""


def test_genmc_summary_is_read():
    assert parse_genmc(GENMC_OUT) == ("holds", 438, 1816, 0.22)
    verdict, *_ = parse_genmc("Error detected: Safety violation!\nassert failed\n")
    assert verdict == "violated"
    assert parse_genmc("clang: error: no such file")[0] == "unknown"


def test_spin_result_line_is_read():
    line = ("x\nSPINRESULT states=1.07e+07 errors=0 pan_mem_mb=1700 pan_rss_kb=1800000 oom=0 "
            "spin_s=0.1 gcc_s=1.2 pan_s=17.5\n")
    f = parse_spin(line)
    assert f["states"] == "1.07e+07" and f["pan_s"] == "17.5" and f["oom"] == "0"
    assert parse_spin("spin failed") == {}


def test_explorer_settings_match_the_peers_scenarios():
    g = Case("genmc", 3, 1, "tso").explorer_settings()
    assert "present=" in g and "fallocate.0.mode=allocate" in g and "get_folio=3" in g
    sp = Case("spin", 2, 1, "sc").explorer_settings()
    assert not any(s.startswith("present") or "mode" in s for s in sp)
    assert Case("genmc", 2, 1, "pso").tools() == ("optimal", "graph")  # GenMC has no PSO


def _run(tool: str, rep: int, whole: float, execs: int, blocked: int = 0,
         finished: bool = True, case: str = "genmc/(3,1)/sc") -> Run:
    return Run(case, tool, rep, finished, "holds", execs, blocked, None, whole, whole / 2, 50.0)


def test_ratios_are_per_repetition_medians_and_targets_follow_the_figures():
    runs = [
        _run("genmc", 0, 1.0, 438, 1816), _run("genmc", 1, 2.0, 438, 1816),
        _run("genmc", 2, 1.0, 438, 1816),
        # Twice GenMC's time in every repetition, whatever the repetition's speed.
        _run("optimal", 0, 2.0, 500, 100), _run("optimal", 1, 4.0, 500, 100),
        _run("optimal", 2, 2.0, 500, 100),
        _run("graph", 0, 0.5, 400, 100), _run("graph", 1, 1.0, 400, 100),
        _run("graph", 2, 0.5, 400, 100),
    ]
    b = Bench(Path("."), 3, 60.0, runs, [{"interpreter_s": 0.03, "imports_s": 0.06,
                                          "compile_s": 0.02, "whole_s": 0.12}])
    s = summary(b)["genmc/(3,1)/sc"]
    assert s["optimal"]["ratio_whole"] == 2.0
    assert s["graph"]["ratio_whole"] == 0.5
    md = markdown(b, {"machine": "m", "date": "d", "genmc": "GenMC", "spin": "SPIN"})
    assert "optimal: complete executions at or below GenMC's: not met: genmc/(3,1)/sc" in md
    assert "graph: complete executions at or below GenMC's: met" in md
    assert "optimal: whole process faster than GenMC at (3,1) to (5,1): not met" in md
    assert "graph: whole process faster than GenMC at (3,1) to (5,1): met" in md
    assert "same verdict (holds)" in md


def test_a_tool_out_of_time_is_said_not_compared():
    runs = [_run("genmc", 0, 1.0, 438, 1816), _run("optimal", 0, 120.0, 0, 0, finished=False),
            _run("graph", 0, 3.0, 438, 10)]
    runs[1].note = "out of time (120 s)"
    b = Bench(Path("."), 1, 120.0, runs)
    md = markdown(b, {"machine": "m", "date": "d", "genmc": "GenMC", "spin": "SPIN"})
    assert "out of time (120 s)" in md
    assert "cases GenMC finished and optimal did not: genmc/(3,1)/sc" in md
    assert "optimal: whole process faster than GenMC at (3,1) to (5,1): not measured" in md


def test_graph_verdicts_compare_cells_by_verdict():
    from explorer.tools.graph_verdicts import compare
    from explorer.tools.verdicts import Cell

    def ref(mutant: str, verdict: str) -> dict:
        return {"model": "m", "mutant": mutant, "srcu": "abstract", "memory_model": "sc",
                "verdict": verdict, "executions": 10}

    def got(mutant: str, verdict: str, prop: str = "") -> Cell:
        c = Cell("m", mutant, "abstract", "sc")
        c.verdict, c.property = verdict, prop
        return c

    rows = compare([ref("a", "holds"), ref("b", "violated"), ref("c", "holds"),
                    ref("d", "violated")],
                   [got("a", "holds"), got("b", "violated", "other-property"),
                    got("c", "violated"), got("d", "incomplete")])
    assert [r["status"] for r in rows] == ["agree", "agree", "DISAGREE", "incomplete"]


def test_report_renders_again_from_its_json(tmp_path):
    import json
    from dataclasses import asdict

    from explorer.tools.peers import main

    runs = [_run("genmc", 0, 1.0, 438, 1816), _run("optimal", 0, 2.0, 500, 100)]
    startup = [{"interpreter_s": 0.03, "imports_s": 0.2, "compile_s": 0.05, "whole_s": 0.3}]
    src = tmp_path / "peers.json"
    src.write_text(json.dumps({"meta": {"machine": "m", "date": "d", "genmc": "G", "spin": "S"},
                               "reps": 1, "timeout": 60, "startup": startup,
                               "runs": [asdict(r) for r in runs]}))
    assert main(["--render", str(src), "--out", str(tmp_path)]) == 0
    md = (tmp_path / "peers.md").read_text()
    assert "under 0.15 s: not met (0.300 s)" in md
    assert "| 438 (+1,816) |" in md
    (tmp_path / "bad.json").write_text("{}")
    assert main(["--render", str(tmp_path / "bad.json"), "--out", str(tmp_path)]) == 2


def test_weak_memory_is_judged_against_sc_of_the_same_tool():
    """TSO with as many complete executions as SC but more cut off at a retry: the
    first target met, the second not (from the figures, per tool)."""
    runs = [_run("genmc", 0, 1.0, 438, 1816),
            _run("genmc", 0, 1.0, 438, 1816, case="genmc/(3,1)/tso"),
            _run("graph", 0, 2.0, 1190, 11040),
            _run("graph", 0, 3.0, 1190, 12301, case="genmc/(3,1)/tso")]
    md = markdown(Bench(Path("."), 1, 60.0, runs),
                  {"machine": "m", "date": "d", "genmc": "GenMC", "spin": "SPIN"})
    assert ("graph: TSO/PSO complete executions no more than SC's (1 sizes): met; with "
            "those cut off at a retry: not met: genmc/(3,1)/tso") in md
    assert "optimal: TSO/PSO against SC: not measured" in md
