"""`explorer check --graph FILE` and `explorer graph SCHEDULE --out FILE`."""

from __future__ import annotations

import json

import networkx as nx
import pytest
from common import MUTANTS, cli

from explorer.api import check


def run(cwd, *args):
    return cli(*args, cwd=cwd, timeout=120)


@pytest.mark.parametrize("mutant", MUTANTS)
def test_check_graph_matches_the_trace(tmp_path, mutant):
    p = run(tmp_path, "check", "--mutant", mutant, "--graph", "g.json",
            "--schedule-out", "s.json")
    assert p.returncode == 1, p.stderr
    g = nx.node_link_graph(json.loads((tmp_path / "g.json").read_text()), edges="edges")
    o = check(mutant=mutant)
    trace = o.trace
    steps = sorted((d["index"], d["thread"], d["step"]) for _, d in g.nodes(data=True)
                   if d.get("kind") == "step")
    assert steps == [(i, r.thread_name, r.label) for i, r in enumerate(trace, 1)]
    assert g.graph["property"] == o.result.failure.name
    # the same graph from the schedule file
    p = run(tmp_path, "graph", "s.json", "--out", "h.graphml")
    assert p.returncode == 0, p.stderr
    h = nx.read_graphml(tmp_path / "h.graphml")
    assert h.number_of_nodes() == g.number_of_nodes()
    assert h.number_of_edges() == g.number_of_edges()


def test_bad_graph_extension_is_refused_before_exploring(tmp_path):
    p = run(tmp_path, "check", "--graph", "g.png")
    assert p.returncode == 2
    assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr
    assert not (tmp_path / "g.png").exists()


def test_graph_of_a_missing_schedule_file(tmp_path):
    p = run(tmp_path, "graph", "nope.json", "--out", "g.dot")
    assert p.returncode == 2
    assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr


def test_an_existing_graph_file_is_refused_before_exploring(tmp_path):
    (tmp_path / "g.json").write_text("mine")
    p = run(tmp_path, "check", "--mutant", MUTANTS[0], "--graph", "g.json", "--no-schedule")
    assert p.returncode == 2 and p.stdout == ""
    assert len(p.stderr.strip().splitlines()) == 1 and "--force" in p.stderr
    assert (tmp_path / "g.json").read_text() == "mine"
    p = run(tmp_path, "check", "--mutant", MUTANTS[0], "--graph", "g.json", "--no-schedule",
            "--force")
    assert p.returncode == 1, p.stderr
    assert json.loads((tmp_path / "g.json").read_text())["graph"]["property"]


def test_a_graph_path_in_no_folder_is_refused_before_exploring(tmp_path):
    p = run(tmp_path, "check", "--mutant", MUTANTS[0], "--graph", "nowhere/g.dot")
    assert p.returncode == 2 and p.stdout == ""
    assert len(p.stderr.strip().splitlines()) == 1 and "nowhere" in p.stderr
    p = run(tmp_path, "graph", "s.json", "--out", "nowhere/g.dot")
    assert p.returncode == 2 and "nowhere" in p.stderr


def test_a_schedule_file_that_cannot_be_written_keeps_the_verdict(tmp_path):
    """The default schedule folder is a file here (so even root cannot write under it):
    the violation is still printed, exit 1, with one extra line on stderr."""
    (tmp_path / "counterexamples").write_text("not a folder")
    p = run(tmp_path, "check", "--mutant", MUTANTS[0])
    assert p.returncode == 1, p.stderr
    assert "VIOLATED" in p.stdout
    assert "Traceback" not in p.stderr
    assert [line for line in p.stderr.splitlines() if "no schedule file written" in line]


def test_a_graph_that_cannot_be_written_keeps_the_verdict(tmp_path, monkeypatch, capsys):
    """export fails after the search (here: the folder went away): verdict and exit 1 stay."""
    from explorer import cli as cli_mod
    from explorer.evidence import graph

    def fail(g, path):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(graph, "export", fail)
    monkeypatch.chdir(tmp_path)
    code = cli_mod.main(["check", "--mutant", MUTANTS[0], "--graph", "g.html", "--no-schedule"])
    assert code == 1
    out, err = capsys.readouterr()
    assert "VIOLATED" in out and "no graph written to g.html" in err
