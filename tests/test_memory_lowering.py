"""explorer/compile/lowering.py as a transformation: what it adds, bounds and waits for,
and how its counterexamples read (its semantics against an independent
reference are tests/test_memory_model.py; published litmus verdicts are
tests/test_litmus.py)."""

from __future__ import annotations

import json
from pathlib import Path

from common import cli

from explorer import api
from explorer.compile.lowering import lower
from explorer.compile.program import Program
from explorer.lang.access import fence, inc, store
from explorer.lang.builder import OpBuilder
from explorer.lang.expr import Shared
from explorer.lang.model import Model, Thread, VarDecl
from explorer.search.budget import Budget
from explorer.search.dpor import Outcomes, explore_dpor
from explorer.search.graph_census import graph_census


def _thread(name: str, build) -> Thread:  # type: ignore[no-untyped-def]
    b = OpBuilder("op")
    build(b)
    return Thread(name, (b.build(),))


def _model(*threads: Thread, shared: tuple[str, ...] = ("x", "y")) -> Model:
    return Model("m", {v: VarDecl() for v in shared}, {}, threads)


def test_sc_is_the_model_itself() -> None:
    m = _model(_thread("A", lambda b: b.add("w", "l", "x = 1", **store("x", 1))))
    assert lower(m, "sc") is m


def test_buffer_holds_as_many_stores_as_can_run_on_its_cpu() -> None:
    def three(b: OpBuilder) -> None:
        b.add("w1", "l", "x = 1", next="w2", **store("x", 1))
        b.add("w2", "l", "x = 2", next="w3", **store("x", 2))
        b.add("w3", "l", "y = 1", **store("y", 1))

    low = lower(_model(_thread("A", three)), "tso")
    assert {f"sb.A.x.v{k}" for k in range(2)} <= set(low.shared)
    assert "sb.A.x.v2" not in low.shared
    assert "sb.A.y.v0" in low.shared and "sb.A.y.v1" not in low.shared
    flushers = [t for t in low.threads if t.daemon]
    assert sorted(t.name for t in flushers) == ["flush.A.x", "flush.A.y"]


def test_fence_on_a_cpu_that_never_stores_costs_nothing() -> None:
    def loads(b: OpBuilder) -> None:
        b.add("f", "l", "smp_mb()", next="r", **fence("mb"))
        b.add("r", "l", "r = x", reads=["x"])

    low = lower(_model(_thread("A", loads), _thread("B", lambda b: b.add(
        "w", "l", "x = 1", **store("x", 1)))), "tso")
    mb = low.threads[0].ops[0].step("f")
    assert mb.is_local  # no buffer to drain: still fused into the next event


def test_mb_waits_for_the_buffer_to_drain() -> None:
    def sb(b: OpBuilder) -> None:
        b.add("w", "l", "x = 1", next="f", **store("x", 1))
        b.add("f", "l", "smp_mb()", next="r", **fence("mb"))
        b.add("r", "l", "r = y", reads=["y"])

    p = Program(lower(_model(_thread("A", sb)), "tso"))
    s = p.initial_state()
    p.execute(s, 0)  # the store enters the buffer
    assert [t for t, _ in p.transitions(s)] == [1]  # only the flush can move
    assert p.blocked(s) and p.blocked(s)[0][1].step.label == "f"
    p.execute(s, 1)
    assert 0 in [t for t, _ in p.transitions(s)]
    assert s[p.slot[Shared("x")]] == 1


def test_a_migrated_step_waits_for_both_cpus_and_acts_on_memory() -> None:
    def migrating(b: OpBuilder) -> None:
        b.add("w", "l", "x = 1", next="u", **store("x", 1))
        b.add("u", "l", "this_cpu_inc(y) on B", cpu="B", **inc("y", order="plain"))

    def other(b: OpBuilder) -> None:
        b.add("i", "l", "this_cpu_inc(y)", **inc("y", order="plain"))

    p = Program(lower(_model(_thread("A", migrating), _thread("B", other)), "tso"))
    names = [t.name for t in p.threads]
    a, b = names.index("A"), names.index("B")
    s = p.initial_state()
    p.execute(s, b)  # B's increment sits in B's buffer
    p.execute(s, a)  # A's store sits in A's buffer
    assert a not in [t for t, _ in p.transitions(s)]  # A waits for both buffers
    for flusher in ("flush.A.x", "flush.B.y"):
        p.execute(s, names.index(flusher))
    p.execute(s, a)
    # No lost update: the migrated increment read B's flushed count from memory.
    assert s[p.slot[Shared("y")]] == 2
    assert p.finished(s) and not p.transitions(s)


def test_tso_counterexample_shows_the_store_not_yet_visible() -> None:
    out = api.check(mutant="no-synchronize", memory_model="tso")
    assert out.result.verdict == "violated" and out.trace is not None
    buffered = [(r.label, k, v) for r in out.trace for k, v in r.writes if "buffered on" in v]
    assert buffered and buffered[0][1] == "flags.i0"
    assert out.program is not None and out.final_state is not None
    # At the violation the flag store is still in the preserver's buffer.
    n = out.program.names.index("sb.preserver0.flags.i0.n")
    assert out.final_state[n] == 1


def test_cli_tso_schedule_replays_and_names_the_memory_model(tmp_path: Path) -> None:
    r = cli("check", "--memory-model", "tso", "--mutant", "check-before-lock", "--json",
            cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    assert doc["memory_model"] == "tso"
    files = list((tmp_path / "counterexamples").glob("*.json"))
    assert [f.name for f in files] == ["guest_memfd-default-check-before-lock-tso.json"]
    rep = cli("replay", str(files[0]), cwd=tmp_path)
    assert rep.returncode == 1, rep.stdout + rep.stderr
    assert "buffered on" in rep.stdout


def test_cli_unknown_memory_model_is_one_line(tmp_path: Path) -> None:
    r = cli("check", "--memory-model", "arm", cwd=tmp_path)
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and "arm" in r.stderr


def test_store_buffering_counterexample_names_the_stale_read() -> None:
    from explorer.compile.lowering import stale_reads

    out = api.check(mutant="no-mb-in-read-lock", srcu="impl", memory_model="tso")
    assert out.result.verdict == "violated" and out.trace is not None
    stale = stale_reads(out.trace)
    # The scanner summed a reader's lock counter while the increment was buffered.
    assert any("read srcu.lock" in s and "still in its store buffer" in s for s in stale)
    sc = api.check(mutant="single-scan", srcu="impl", memory_model="sc")
    assert sc.result.verdict == "violated" and sc.trace is not None
    assert stale_reads(sc.trace) == []  # under SC no store waits anywhere


def test_own_buffer_reads_are_shown_and_are_not_stale() -> None:
    from explorer.compile.lowering import stale_reads
    from explorer.search.replay import replay

    def store_then_load(b: OpBuilder) -> None:
        b.add("w", "l", "x = 1", next="r", **store("x", 1))
        b.add("r", "l", "r = x", reads=["x"])

    def loader(b: OpBuilder) -> None:
        b.add("r", "l", "r = x", reads=["x"])

    p = Program(lower(_model(_thread("A", store_then_load), _thread("B", loader)), "tso"))
    names = [t.name for t in p.threads]
    a, b = names.index("A"), names.index("B")
    records, _ = replay(p, [(a, None), (a, None), (b, None)])  # nothing flushed yet
    assert records[0].buffered == (("x", "A", "1"),)
    assert records[1].forwarded == ("x",) and records[1].reads == (("x", "1 (own store buffer)"),)
    assert records[2].reads == (("x", "0"),)
    assert stale_reads(records) == [
        "step 3: B read x=0 while A's store of 1 (step 1) was still in its store buffer"]
    flushed, _ = replay(p, [(a, None), (names.index("flush.A.x"), None), (b, None)])
    assert stale_reads(flushed) == []


def test_a_step_storing_two_locations_buffers_both_in_declaration_order() -> None:
    """An atomic plain step that stores x and y: both enter the buffer, with
    consecutive TSO issue numbers (one number for both left y in the buffer for
    ever, its flush waiting for a number already passed), x first; under PSO both
    in one epoch. Every run ends with both in memory, as the census of graphs says."""
    def both(b: OpBuilder) -> None:
        b.add("st", "test", "x = 1; y = 1", writes=["x", "y"],
              update={Shared("x"): 1, Shared("y"): 1}, atomic=True, next="mb")
        b.add("mb", "test", "smp_mb()", fence="mb")
    m = _model(_thread("A", both))
    for mm in ("tso", "pso"):
        lp = Program(lower(m, mm))
        got = Outcomes()
        explore_dpor(lp, optimal=True, budget=Budget(), outcomes=got)
        x, y = lp.slot[Shared("x")], lp.slot[Shared("y")]
        assert {(s[x], s[y]) for s in got.finals} == {(1, 1)}, mm
        census_finals = graph_census(Program(m), mm).outcomes.finals
        p = Program(m)
        assert {(s[p.slot[Shared("x")]], s[p.slot[Shared("y")]]) for s in census_finals} == \
            {(1, 1)}
