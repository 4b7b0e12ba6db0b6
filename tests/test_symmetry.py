"""Symmetry reduction (--symmetry): explorer/compile/symmetry.py, the stateful
strategy's cache keyed up to swapping symmetric threads.

The proof is on random programs of every shape class of the generators, made
symmetric by running one of their threads two or three times: with symmetry
the stateful strategy must count exactly the schedules it counts without
(each state is credited with its mirror's count), reach the same verdict with
the same first violation on the same run, and store no more states.
"""

from __future__ import annotations

import itertools

import langgen as lg
import pytest

from explorer import api
from explorer.compile.program import Program
from explorer.compile.symmetry import symmetry
from explorer.lang.builder import OpBuilder
from explorer.lang.expr import Shared, eq, le
from explorer.lang.family import BadInput
from explorer.lang.model import Model, ModelError, Property, Thread, VarDecl
from explorer.search.budget import Budget
from explorer.search.dfs import explore
from explorer.search.result import HOLDS

SHAPES = lg.SHAPES


def doubled(m: Model, copies: int = 2) -> Model | None:
    """The model with its first non-daemon thread run `copies` times."""
    base = next((t for t in m.threads if not t.daemon), None)
    if base is None:
        return None
    extra = tuple(Thread(f"{base.name}.copy{k}", base.ops, base.cpu, base.daemon, base.bound)
                  for k in range(1, copies))
    return Model(m.name, m.shared, m.ghosts, m.threads + extra, m.properties, m.description)


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


def test_fewer_states_on_identical_threads() -> None:
    p = Program(counters(3, per_thread=False))
    a = explore(p, cache=True, budget=Budget(), progress=False)
    b = explore(p, cache=True, budget=Budget(symmetry=True), progress=False)
    assert a.verdict == b.verdict == HOLDS
    assert b.stats.schedules == a.stats.schedules
    assert b.stats.states < a.stats.states


@pytest.mark.parametrize("strategy", ["optimal", "graph", "naive"])
def test_symmetry_is_refused_by_the_strategies_it_does_not_reduce(strategy: str) -> None:
    with pytest.raises(BadInput, match="--symmetry"):
        api.check("guest_memfd", strategy=strategy, budget=Budget(symmetry=True))
