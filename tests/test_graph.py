"""Execution graphs: their relations agree with the trace, and they survive export."""

from __future__ import annotations

import json
import re
import shutil
from collections import defaultdict

import networkx as nx
import pytest
from common import MUTANTS

from explorer.api import check, prepare
from explorer.evidence import graph as graph_mod
from explorer.evidence.graph import execution_graph, export, from_outcome
from explorer.evidence.report import why_lines
from explorer.lang.family import BadInput
from explorer.search.result import DEADLOCK

# srcu default model: threads reader0 (nests twice), reader1, updater.
R0, R1, UP = 0, 1, 2
SRCU_SCHEDULE = [
    (R0, None),  # srcu_read_lock (outermost)
    (UP, None),  # mark
    (UP, None),  # synchronize_srcu begin: reader0 is inside, reader1 is not
    (R1, None),  # srcu_read_lock after begin: need not be waited for
    (R0, None),  # nested srcu_read_lock
    (R0, None),  # body_begin
    (R0, None),  # body_end
    (R0, None),  # inner unlock
    (R0, None),  # outermost unlock
    (UP, None),  # wait for reader0, then return (fused)
]


def _edges(g: nx.MultiDiGraph, kind: str) -> list[tuple[str, str, dict]]:
    return [(u, v, d) for u, v, d in g.edges(data=True) if d["kind"] == kind]


def _steps(g: nx.MultiDiGraph) -> list[str]:
    return sorted(
        (n for n, d in g.nodes(data=True) if d["kind"] == "step"),
        key=lambda n: g.nodes[n]["index"],
    )


def _value(text: str) -> str:
    """`1 (own store buffer)`, `1 (buffered on P0, ...)` -> `1`."""
    return str(text).split(" (", 1)[0]


def _check_consistent(g: nx.MultiDiGraph) -> None:
    """rf, co, fr, po (and, under TSO/PSO, sb) agree with the steps' reads and writes."""
    nodes = g.nodes
    order = {n: nodes[n]["index"] for n in _steps(g)}
    order.update({n: 0 for n, d in g.nodes(data=True) if d["kind"] == "init"})

    def wrote(n: str, loc: str) -> str | None:
        d = nodes[n]
        if d["kind"] == "init":
            return d["value"] if d["location"] == loc else None
        value = d.get("writes", {}).get(loc)
        return None if value is None else _value(value)

    # sb: each buffered store to one later flush of its location, each flush from one
    flush_of: dict[str, str] = {}
    for u, v, d in _edges(g, "sb"):
        loc = d["location"]
        assert loc in nodes[u]["buffered"] and u not in flush_of
        assert order[u] < order[v] and any(t.startswith("mem.flush:") and t.endswith(f":{loc}")
                                           for t in nodes[v]["tags"])
        assert wrote(u, loc) == wrote(v, loc) == d["value"]
        flush_of[u] = v
    flushes = [n for n in _steps(g) if any(t.startswith("mem.flush:") for t in nodes[n]["tags"])]
    assert sorted(flush_of.values()) == sorted(flushes)
    # rf: from a write of that location (earlier), same value, one source per read; from
    # a buffered store only on its own thread's CPU and before that store's flush
    rf: dict[tuple[str, str], str] = {}
    for u, v, d in _edges(g, "rf"):
        loc = d["location"]
        assert wrote(u, loc) is not None, (u, v, loc)
        assert wrote(u, loc) == _value(nodes[v]["reads"][loc]) == _value(d["value"])
        assert order[u] < order[v]
        assert (v, loc) not in rf
        if loc in nodes[u].get("buffered", []):
            assert nodes[u]["thread"] == nodes[v]["thread"], (u, v)
            assert u not in flush_of or order[v] < order[flush_of[u]], (u, v)
        rf[(v, loc)] = u
    for n in _steps(g):
        for loc in nodes[n]["reads"]:
            assert (n, loc) in rf, f"{n} reads {loc} from nowhere"
    # co: per location, a chain through every write to memory in execution order
    writes: dict[str, list[str]] = defaultdict(list)
    for n in _steps(g):
        for loc in nodes[n]["writes"]:
            if loc not in nodes[n]["buffered"]:
                writes[loc].append(n)
    for n, d in g.nodes(data=True):
        if d["kind"] == "init":
            writes[d["location"]].insert(0, n)
    co: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for u, v, d in _edges(g, "co"):
        co[d["location"]].append((u, v))
    for loc, ws in writes.items():
        assert sorted(co[loc]) == sorted(zip(ws, ws[1:], strict=False)), loc
    # fr = rf^-1 ; co (immediate successor; a buffered store at its flush), minus a
    # read-modify-write to itself
    succ = {(d["location"], u): v for u, v, d in _edges(g, "co")}
    expected_fr = set()
    for (reader, loc), src in rf.items():
        nxt = succ.get((loc, flush_of.get(src, src)))
        if nxt is not None and nxt != reader:
            expected_fr.add((reader, nxt, loc))
    assert {(u, v, d["location"]) for u, v, d in _edges(g, "fr")} == expected_fr
    # po: consecutive steps of each thread
    per_thread: dict[str, list[str]] = defaultdict(list)
    for n in _steps(g):
        per_thread[nodes[n]["thread"]].append(n)
    expected_po = {(a, b) for ns in per_thread.values() for a, b in zip(ns, ns[1:], strict=False)}
    assert {(u, v) for u, v, _ in _edges(g, "po")} == expected_po


def _check_hb(g: nx.MultiDiGraph) -> None:
    order = nx.DiGraph()
    order.add_nodes_from(_steps(g))
    order.add_edges_from((u, v) for u, v, d in g.edges(data=True) if d["kind"] in ("po", "hb"))
    assert nx.is_directed_acyclic_graph(order)
    idx = {n: g.nodes[n]["index"] for n in _steps(g)}
    for u, v, _ in _edges(g, "hb"):
        assert idx[u] < idx[v]
        assert g.nodes[u]["thread"] != g.nodes[v]["thread"]
        assert not g.nodes[u]["fused"] and not g.nodes[v]["fused"]
    # every pair of events with conflicting declared accesses is ordered by po ∪ hb
    heads = [n for n in _steps(g) if not g.nodes[n]["fused"]]
    reach = {n: nx.descendants(order, n) for n in heads}
    fp = {}
    for n in heads:
        d = g.nodes[n]
        r = set(d["reads"])
        w = set(d["writes"]) - set(d["buffered"])  # a buffered store writes at its flush
        fp[n] = (r, w)
    for i, a in enumerate(heads):
        for b in heads[i + 1:]:
            (ra, wa), (rb, wb) = fp[a], fp[b]
            if ra & wb or wa & rb or wa & wb:
                assert b in reach[a], (a, b)


@pytest.mark.parametrize("mutant", MUTANTS)
def test_graph_of_each_mutant(run_check, mutant):
    o = run_check(mutant=mutant)
    g = from_outcome(o)
    assert o.trace is not None
    steps = _steps(g)
    assert len(steps) == len(o.trace)
    for n, rec in zip(steps, o.trace, strict=True):
        d = g.nodes[n]
        assert (d["thread"], d["step"], d["line"], d["fused"]) == (
            rec.thread_name, rec.label, rec.line, rec.fused)
    _check_consistent(g)
    _check_hb(g)
    assert g.graph["property"] == o.result.failure.name
    assert g.graph["property_description"] == o.result.failure.description
    blamed = re.match(r"Why: step (\d+) ", why_lines(o)[0])
    assert blamed, why_lines(o)[0]
    assert g.graph["violating_node"] == f"e{blamed.group(1)}"
    assert g.nodes[g.graph["violating_node"]]["violating"]
    assert {d["kind"] for _, _, d in g.edges(data=True)} >= {"po", "rf", "co", "hb"}


WEAK = [("guest_memfd", None, "check-before-lock", "abstract", "tso"),
        ("guest_memfd", None, "no-mb-in-read-lock", "impl", "tso"),
        ("guest_memfd", None, "unlock-before-alloc", "abstract", "pso"),
        ("litmus", "SB", None, "abstract", "tso"),
        ("litmus", "SB+rfi", None, "abstract", "tso"),
        ("litmus", "MP", None, "abstract", "pso")]


@pytest.mark.parametrize("model, scenario, mutant, srcu, mm", WEAK)
def test_weak_memory_graph_reads_memory_or_its_own_buffer(model, scenario, mutant, srcu, mm):
    """Under TSO/PSO a load on another CPU reads what memory holds (a stale read reads
    from init or an older flush, never from the store still buffered), a load on the
    storing CPU may read its own buffered store, and co orders the flushes."""
    o = check(model=model, scenario=scenario, mutant=mutant, srcu=srcu, memory_model=mm)
    g = from_outcome(o)
    _check_consistent(g)
    _check_hb(g)
    assert _edges(g, "sb")  # the example needed a flush
    for i, rec in enumerate(o.trace, 1):
        for loc, _value in rec.reads:
            (src,) = [u for u, _v, d in g.in_edges(f"e{i}", data=True)
                      if d["kind"] == "rf" and d["location"] == loc]
            if src.startswith("e") and loc in g.nodes[src]["buffered"]:
                assert loc in rec.forwarded
    if scenario == "SB+rfi":  # it reads its own store back before it is visible
        assert any(loc in g.nodes[u]["buffered"] for u, _v, d in _edges(g, "rf")
                   for loc in [d["location"]])


def test_grace_period_edges():
    _, program = prepare("srcu")
    g = execution_graph(program, SRCU_SCHEDULE)
    _check_consistent(g)
    _check_hb(g)
    nodes = g.nodes
    gp = _edges(g, "gp")
    waited = [(u, v) for u, v, d in gp if d["waited"]]
    skipped = [(u, v) for u, v, d in gp if not d["waited"]]
    assert waited and skipped
    for u, v in waited:
        assert "srcu.unlock:srcu" in nodes[u]["tags"]
        assert "srcu.sync.return:srcu" in nodes[v]["tags"]
        assert nodes[u]["index"] < nodes[v]["index"]
        assert nodes[u]["thread"] == "reader0"
    # reader0's nested sections make one outermost section: one edge, from the last unlock
    assert len(waited) == 1
    (u, v), = skipped
    assert "srcu.sync.begin:srcu" in nodes[u]["tags"]
    assert "srcu.lock:srcu" in nodes[v]["tags"] and nodes[v]["thread"] == "reader1"
    assert g.graph["property"] is None and g.graph["violating_node"] is None


def test_deadlock_lists_blocked_threads(run_check):
    o = run_check(model="srcu", scenario="self-deadlock")
    assert o.result.failure.name == DEADLOCK
    g = from_outcome(o)
    assert g.graph["violating_node"] is None
    assert [b["thread"] for b in g.graph["blocked"]] == ["updater"]
    assert "synchronize_srcu" in g.graph["blocked"][0]["waits_for"]


def _summary(g: nx.MultiDiGraph) -> tuple[int, set[str]]:
    return g.number_of_nodes(), {str(d["kind"]).strip('"') for _, _, d in g.edges(data=True)}


@pytest.fixture(scope="module")
def srcu_graph():
    _, program = prepare("srcu")
    return execution_graph(program, SRCU_SCHEDULE)


def test_graphml_round_trip(tmp_path, srcu_graph):
    path = tmp_path / "g.graphml"
    export(srcu_graph, path)
    back = nx.read_graphml(path)
    assert _summary(back) == _summary(srcu_graph)
    assert back.nodes["e1"]["thread"] == "reader0"
    assert back.nodes["e1"]["index"] == 1
    assert json.loads(back.nodes["e1"]["tags"]) == ["srcu.lock:srcu"]
    assert back.graph["model"] == srcu_graph.graph["model"]
    assert json.loads(back.graph["schedule"]) == srcu_graph.graph["schedule"]


def test_json_round_trip(tmp_path, run_check):
    g = from_outcome(run_check(mutant="no-synchronize"))
    path = tmp_path / "g.json"
    export(g, path)
    back = nx.node_link_graph(json.loads(path.read_text()), edges="edges")
    assert isinstance(back, nx.MultiDiGraph)
    assert _summary(back) == _summary(g)
    assert back.graph["violating_node"] == g.graph["violating_node"]
    assert back.nodes["e1"]["reads"] == g.nodes["e1"]["reads"]
    assert set(back.edges(keys=True)) == set(g.edges(keys=True))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pydot's use of pyparsing
def test_dot_round_trip(tmp_path, run_check):
    pytest.importorskip("pydot", reason="pydot is not installed")
    from networkx.drawing.nx_pydot import read_dot

    g = from_outcome(run_check(mutant="check-before-lock"))
    path = tmp_path / "g.dot"
    export(g, path)
    back = read_dot(path)
    assert _summary(back) == _summary(g)

    def unq(s: str) -> str:
        return s.strip('"').replace('\\"', '"')

    bad = g.graph["violating_node"]
    assert unq(back.graph["graph"]["violating_node"]) == bad
    assert unq(back.nodes[bad]["color"]) == "red"
    assert unq(back.nodes["e1"]["step"]) == g.nodes["e1"]["step"]
    assert json.loads(unq(back.nodes["e1"]["reads"])) == g.nodes["e1"]["reads"]


def test_svg(tmp_path, srcu_graph):
    path = tmp_path / "g.svg"
    if shutil.which("dot"):
        export(srcu_graph, path)
        head = path.read_text().lstrip()
        assert head.startswith("<?xml") or head.startswith("<svg")
    else:
        with pytest.raises(BadInput, match="Graphviz's dot is not installed"):
            export(srcu_graph, path)


def test_svg_without_graphviz(tmp_path, srcu_graph, monkeypatch):
    monkeypatch.setattr(graph_mod.shutil, "which", lambda _name: None)
    with pytest.raises(BadInput, match="apt-get install graphviz"):
        export(srcu_graph, tmp_path / "g.svg")
    assert not (tmp_path / "g.svg").exists()


def test_unknown_extension(tmp_path, srcu_graph):
    with pytest.raises(BadInput) as err:
        export(srcu_graph, tmp_path / "g.png")
    assert "\n" not in str(err.value) and ".png" in str(err.value)


def test_without_a_violation_every_edge_explains(srcu_graph):
    """A schedule's graph (no property violated) has nothing to narrow down to."""
    g = srcu_graph
    assert g.graph["violating_node"] is None and g.graph["window_node"] is None
    assert g.graph["races"] == []
    assert all(d["focus"] and not d["internal"] for _u, _v, d in g.edges(data=True))
    ran = [t for t in g.graph["threads"]
           if any(d.get("thread") == t for _n, d in g.nodes(data=True))]
    assert [lane["threads"] for lane in g.graph["lanes"]] == [[t] for t in ran]


def test_focus_draws_the_story_of_a_violation(run_check):
    """no-synchronize: get_folio's is_frozen read the flag before freeze wrote it (fr,
    the race), freeze's write opened the window, and the allocation read the open
    window (rf): those are shown, the rest is one click away."""
    o = run_check(mutant="no-synchronize")
    g = from_outcome(o)
    bad, window = g.graph["violating_node"], g.graph["window_node"]
    assert bad and window and g.graph["races"]
    focus = [(u, v, d) for u, v, d in g.edges(data=True) if d["focus"]]
    assert any(d["kind"] == "rf" and u == window and v == bad for u, v, d in focus)
    for a, b in g.graph["races"]:
        assert any({u, v} == {a, b} for u, v, _d in focus), (a, b)
    assert len(focus) < g.number_of_edges()
    races = [set(r) for r in g.graph["races"]]
    assert all({u, v} in races for u, v, d in focus if d["kind"] == "hb")
