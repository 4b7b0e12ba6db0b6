"""Symmetry reduction (--symmetry): explorer/compile/symmetry.py finds the
threads that run the same operations with the same arguments; the stateful
strategy keys its cache up to swapping them, and the graph strategy explores
one graph per orbit (explorer/search/graph_symmetry.py).

The proof is on random programs of every shape class of the generators, made
symmetric by running one of their threads two or three times. Graph: the
graphs explored with symmetry, each taken up to swapping the copies, must be
every orbit of the graphs explored without, each once (where the threads make
no Choice: choices are not ordered between copies), with the same final
states and deadlocks (up to the swap) and the same violated properties, under
SC and TSO. Stateful: the same schedules counted as without (each state is
credited with its mirror's count), the same verdict with the same first
violation on the same run, and no more states.
"""

from __future__ import annotations

import itertools
import json

import langgen as lg
import pytest
from symcheck import MAX_EVENTS, compare, doubled, orbit, perms

from explorer import api
from explorer.compile.program import Program
from explorer.compile.symmetry import symmetry
from explorer.lang.builder import OpBuilder
from explorer.lang.expr import Shared, eq, le
from explorer.lang.family import BadInput
from explorer.lang.model import Model, ModelError, Property, Thread, VarDecl
from explorer.memory.weak import unsupported
from explorer.search.budget import Budget
from explorer.search.dfs import explore
from explorer.search.graph import collect_graph
from explorer.search.result import HOLDS

SHAPES = lg.SHAPES


def orbits_agree(shape: str, seed: int, n: int, max_events: int, enough: int = 99) -> int:
    """Programs i < n of the shape, first thread doubled, until `enough` were small
    enough to compare: how many were."""
    compared = 0
    for i in range(n):
        if compared >= enough:
            break
        spec = lg.soak_spec(seed, shape, i)
        m = doubled(spec.m)
        if m is None:
            continue
        for mm in ("sc", "tso") if shape in ("weak", "basic", "rmw") else ("sc",):
            if mm != "sc" and unsupported(Program(m)):
                continue
            problems = compare(m, mm, max_events)
            if problems is None:
                continue
            compared += 1
            assert not problems, f"\n{spec}\n(first thread doubled)\n" + "\n".join(problems)
    return compared


@pytest.mark.parametrize("shape", SHAPES)
def test_graph_explores_each_orbit_once(shape: str) -> None:
    assert orbits_agree(shape, 17, 8, MAX_EVENTS, enough=2) >= 1, \
        "no program small enough to compare"


@pytest.mark.slow
@pytest.mark.parametrize("shape", SHAPES)
def test_graph_explores_each_orbit_once_more_programs(shape: str) -> None:
    assert orbits_agree(shape, 29, 10, 20_000) >= 3


# Programs of the generators small enough with their first thread run three times
# (only their first two threads kept), each with interactions between the copies.
TRIPLED = [("basic", 3), ("multi-guard", 2), ("choices", 2), ("local-chains", 0),
           ("retry", 3), ("invariants", 3), ("weak", 3)]


@pytest.mark.parametrize(("shape", "i"), TRIPLED)
def test_three_copies(shape: str, i: int) -> None:
    spec = lg.soak_spec(19, shape, i)
    m = doubled(spec.m, copies=3, keep=2)
    assert m is not None
    problems = compare(m, "sc", 20_000)
    assert problems is not None, "too big to compare: pick another program"
    assert not problems, f"\n{spec}\n(first thread run three times)\n" + "\n".join(problems)


@pytest.mark.parametrize("shape", SHAPES)
def test_stateful_counts_every_schedule_and_keeps_the_verdict(shape: str) -> None:
    compared = reduced = 0
    for copies, i in itertools.product((2, 3), range(8)):
        spec = lg.soak_spec(23, shape, i)
        m = doubled(spec.m, copies)
        if m is None:
            continue
        try:
            p = Program(m)
        except ModelError:
            continue
        plain = explore(p, cache=True, budget=Budget(max_executions=200_000), progress=False)
        red = explore(p, cache=True, budget=Budget(max_executions=200_000, symmetry=True),
                      progress=False)
        where = f"\n{spec}\n(first thread run {copies} times)"
        assert red.verdict == plain.verdict, where
        # What a mirror's subtree is credited with is what exploring it would count.
        assert red.stats.schedules == plain.stats.schedules, where
        assert red.stats.states <= plain.stats.states, where
        # A subtree skipped for its mirror holds no violation the mirror did not: the
        # first violation of the depth-first order is the same one, on the same run.
        assert (red.failure, red.schedule) == (plain.failure, plain.schedule), where
        compared += 1
        reduced += red.stats.states < plain.stats.states
    assert compared >= 8
    assert reduced >= 1, "no program where symmetry saved a state: the test proves nothing"


def counters(n: int, per_thread: bool) -> Model:
    """n threads each incrementing a counter (one shared, or one each) non-atomically."""
    threads = []
    shared = {"c": VarDecl()} if not per_thread else {f"c{k}": VarDecl() for k in range(n)}
    for k in range(n):
        c = f"c{k}" if per_thread else "c"
        b = OpBuilder("inc")
        r = b.local("r")
        b.add("load", "x.c:1", "r = c", reads=[c], update={r: Shared(c)}, next="store")
        b.add("store", "x.c:2", "c = r + 1", writes=[c], update={Shared(c): r + 1})
        threads.append(Thread(f"t{k}", (b.build(),)))
    lost = Property("bounded", "no more increments than threads", le(Shared("c"), n),
                    kind="final") if not per_thread else Property("each", "every counter is 1",
                                        eq(Shared("c0"), 1), kind="final")
    return Model("counters", shared, {}, tuple(threads), (lost,))


def test_threads_differing_in_one_location_are_not_symmetric() -> None:
    assert symmetry(Program(counters(3, per_thread=True))).trivial
    assert symmetry(Program(counters(3, per_thread=False))).groups == ((0, 1, 2),)


def test_fewer_graphs_and_states_on_identical_threads() -> None:
    p = Program(counters(3, per_thread=False))
    full: list[tuple] = []
    red: list[tuple] = []
    collect_graph(p, keys=full)
    collect_graph(p, Budget(symmetry=True), keys=red)
    pis = perms(symmetry(p), 3)
    assert {orbit(k, pis) for k in red} == {orbit(k, pis) for k in full}
    assert len(red) < len(full)
    a = explore(p, cache=True, budget=Budget(), progress=False)
    b = explore(p, cache=True, budget=Budget(symmetry=True), progress=False)
    assert a.verdict == b.verdict == HOLDS
    assert b.stats.schedules == a.stats.schedules
    assert b.stats.states < a.stats.states


@pytest.mark.parametrize("strategy", ["optimal", "dpor", "naive"])
def test_symmetry_is_refused_by_the_strategies_it_does_not_reduce(strategy: str) -> None:
    with pytest.raises(BadInput, match="--symmetry"):
        api.check("guest_memfd", strategy=strategy, budget=Budget(symmetry=True))


@pytest.mark.parametrize("strategy", ["stateful", "graph"])
def test_the_cli_says_when_symmetry_finds_nothing_and_what_it_reduced(capsys, strategy: str
                                                                        ) -> None:
    from explorer import cli
    assert cli.main(["check", "guest_memfd", "--strategy", strategy, "--symmetry",
                     "--no-schedule"]) == 0
    out, err = capsys.readouterr()
    assert "--symmetry: no two threads" in err and "symmetric threads" not in out
    example = "examples/spinlock.py"
    assert cli.main(["check", example, "--strategy", strategy, "--symmetry",
                     "--no-schedule"]) == 0
    out, err = capsys.readouterr()
    assert "up to swapping 2 symmetric threads" in " ".join(out.split())
    assert "no two threads" not in err
    assert cli.main(["check", example, "--strategy", strategy, "--symmetry", "--json"]) == 0
    out, _ = capsys.readouterr()
    assert json.loads(out)["symmetric"] == 2
