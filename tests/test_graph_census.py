"""The census of execution graphs (explorer/search/graph_census.py) against the
census of interleavings of the lowered model (explorer/search/oracle.py on
explorer/compile/lowering.py's store-buffer form), on SC, TSO and PSO.

The two share the compiled steps and nothing else: one enumerates reads-from
choices and asks explorer/memory/machine.py whether a machine can place them,
the other runs every schedule of the store-buffer threads. They must reach the
same final states, deadlocked states and violated properties; under SC, on
programs without ghosts or invariants (whose order the interleaving census
also distinguishes), one graph per Mazurkiewicz class.
"""

from __future__ import annotations

import langgen as lg
import pytest
from langcheck import project
from test_memory_model import CLASSICS

from explorer.compile.lowering import lower
from explorer.compile.program import Program
from explorer.lang.builder import OpBuilder
from explorer.lang.expr import Ghost, Shared
from explorer.lang.model import Model, ModelError, Thread, VarDecl
from explorer.search.graph_census import graph_census
from explorer.search.oracle import census

MODELS = ("sc", "tso", "pso")
# Per shape class: programs drawn (seeded) and the least that must be small
# enough to compare (so that the test cannot pass by skipping everything).
SAMPLE = {"basic": (4, 3), "multi-guard": (4, 2), "choices": (6, 3), "rmw": (5, 3),
          "local-chains": (6, 3), "retry": (6, 2), "invariants": (6, 2),
          "daemons": (6, 2), "sequence": (6, 3), "weak": (6, 3)}


def _project(lowered: Program, p: Program, states: set[tuple[int, ...]]) -> set[tuple]:
    """States of the lowered program as states of the model (its buffers left out)."""
    return project(states, lowered, p)


def compare(m: Model, mm: str) -> list[str] | None:
    """What differs (None: too big for the interleaving census, or not loadable)."""
    try:
        p, lp = Program(m), Program(lower(m, mm))
    except ModelError:
        return None
    try:
        got = graph_census(p, mm, max_combinations=3_000)
        ref = census(lp, max_executions=10_000)
    except RuntimeError:
        return None
    out = []
    for what, want, have in (
        ("finals", _project(lp, p, ref.outcomes.finals), got.outcomes.finals),
        ("deadlocks", _project(lp, p, ref.outcomes.deadlocks), got.outcomes.deadlocks),
        ("violations", set(ref.outcomes.violations), got.outcomes.violations),
    ):
        if want != have:
            out.append(f"{mm} {what}: only interleavings {sorted(want - have)[:3]}, "
                       f"only graphs {sorted(have - want)[:3]}")
    plain = not m.ghosts and not any(q.kind == "invariant" for q in m.properties)
    if mm == "sc" and plain and len(ref.classes) != got.total:
        out.append(f"sc: {len(ref.classes)} classes, {got.total} graphs {got.graphs}")
    return out


@pytest.mark.parametrize("shape", sorted(SAMPLE))
def test_graphs_reach_what_interleavings_reach(shape: str) -> None:
    drawn, least = SAMPLE[shape]
    compared = 0
    for i in range(drawn):
        spec = lg.soak_spec(11, shape, i)
        for mm in MODELS if shape in ("weak", "basic", "rmw") else ("sc", "tso"):
            problems = compare(spec.m, mm)
            if problems is None:
                continue
            compared += 1
            assert not problems, f"\n{spec}\n" + "\n".join(problems)
    assert compared >= least, f"only {compared} programs small enough to compare"


@pytest.mark.parametrize("name", sorted(CLASSICS))
@pytest.mark.parametrize("mm", MODELS)
def test_classic_litmus_shapes(name: str, mm: str) -> None:
    spec = CLASSICS[name][0]
    problems = compare(spec.model(registers=True), mm)
    assert problems == [], problems


def test_store_buffering_is_a_graph_of_tso_only() -> None:
    """t0: x = 1; r = y    t1: y = 1; r = x: both loads read 0 only with buffers."""
    def thread(mine: str, other: str) -> Thread:
        b = OpBuilder(f"t.{mine}")
        r = b.local("r")
        b.add("st", "litmus", f"WRITE_ONCE({mine}, 1)", writes=[mine],
              update={Shared(mine): 1}, next="ld", order="once")
        b.add("ld", "litmus", f"r = READ_ONCE({other})", reads=[other], writes=[f"r.{mine}"],
              update={r: Shared(other), Ghost(f"r.{mine}"): Shared(other) + 1},
              order="once")
        return Thread(f"t{mine}", (b.build(),))
    m = Model("sb", {"x": VarDecl(), "y": VarDecl()},
              {"r.x": VarDecl(), "r.y": VarDecl()}, (thread("x", "y"), thread("y", "x")))
    p = Program(m)
    both_zero = {mm: any(s[p.slot[Ghost("r.x")]] == 1 and s[p.slot[Ghost("r.y")]] == 1
                         for s in graph_census(p, mm).outcomes.finals) for mm in MODELS}
    assert both_zero == {"sc": False, "tso": True, "pso": True}


def test_a_ghost_that_steers_is_refused() -> None:
    b = OpBuilder("t")
    r = b.local("r")
    b.add("a", "x", "r = ghost", reads=["g"], update={r: Ghost("g")})
    m = Model("m", {"x": VarDecl()}, {"g": VarDecl()}, (Thread("t0", (b.build(),)),))
    with pytest.raises(ModelError, match="ghost 'g' steers"):
        graph_census(Program(m))
