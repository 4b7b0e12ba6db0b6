"""Regressions for the reduction's soundness: models on which a strategy once
said HOLDS for a violated property, or ran a trace twice.

Each model is small enough for the census (every schedule); every strategy
and prove must reach the census's verdict, and optimal must run one
execution per Mazurkiewicz trace. (Retry loops: tests/test_retry.py; sticky
declarations: tests/test_sticky.py.)
"""

from __future__ import annotations

import pytest

from explorer.api import Setup, prepare
from explorer.compile.program import Program
from explorer.lang.builder import OpBuilder
from explorer.lang.expr import Local, Shared, eq, land, lnot
from explorer.lang.model import DONE, Choice, Model, Property, Thread, VarDecl
from explorer.search import run
from explorer.search.budget import Budget
from explorer.search.dpor import Outcomes, explore_dpor
from explorer.search.oracle import census
from explorer.search.result import HOLDS, VIOLATED
from explorer.smt.prove import prove_program

X0, X1 = Shared("x0"), Shared("x1")


def _thread(name: str, *steps: tuple[str, dict], locals_: tuple[str, ...] = ()) -> Thread:
    b = OpBuilder(name)
    for local in locals_:
        b.local(local)
    for k, (label, fields) in enumerate(steps):
        nxt = steps[k + 1][0] if k + 1 < len(steps) else DONE
        b.add(label, f"soundness.c:{k}", label, next=nxt, **fields)
    return Thread(name, (b.build(),))


def guard_over_two_locations() -> Model:
    """T0: x1 = 1;  T1: await (x1 == x0) { r = x1 + x0 }; x0 = r + 1;  T2: x0 = 1.
    The await is enabled only before both writes; x0 == 1 and x1 == 1 at the end
    needs it to overtake both at once (T1, T1, T0, T2)."""
    r = Local("r")
    t0 = _thread("T0", ("w1", dict(writes=["x1"], update={X1: 1})))
    t1 = _thread(
        "T1",
        ("await", dict(reads=["x0", "x1"], atomic=True, guard=eq(X1, X0), update={r: X1 + X0})),
        ("write", dict(writes=["x0"], update={X0: r + 1})),
        locals_=("r",),
    )
    t2 = _thread("T2", ("w2", dict(writes=["x0"], update={X0: 1})))
    prop = Property("not-both", "not (x0 == 1 and x1 == 1)",
                    lnot(land(eq(X0, 1), eq(X1, 1))), kind="final")
    return Model("guard2", {"x0": VarDecl(), "x1": VarDecl()}, {}, (t0, t1, t2), (prop,))


def two_choices() -> Model:
    """Two threads each choose 0 or 1 and write it to their own variable: 4 traces."""
    threads = tuple(
        _thread(f"T{i}", ("choose", dict(choose=Choice("v", (0, 1)))),
                ("write", dict(writes=[f"y{i}"], update={Shared(f"y{i}"): Local("v")})),
                locals_=("v",))
        for i in range(2)
    )
    return Model("choices", {"y0": VarDecl(), "y1": VarDecl()}, {}, threads)


@pytest.mark.parametrize("strategy", ["naive", "stateful", "dpor", "optimal"])
def test_a_guard_over_two_locations_is_violated_by_every_strategy(strategy: str) -> None:
    program = Program(guard_over_two_locations())
    assert census(program).outcomes.violations == {"not-both"}
    res = run(strategy, program, Budget())
    assert res.verdict == VIOLATED and res.failure is not None
    assert res.failure.name == "not-both"


def test_a_guard_over_two_locations_is_violated_by_prove() -> None:
    setup = Setup("guard2", "-", "", {}, None, "abstract", "sc")
    proof = prove_program(setup, Program(guard_over_two_locations()), None, {})
    assert proof.outcome.result.verdict == VIOLATED


def test_a_guard_over_two_locations_one_execution_per_trace() -> None:
    program = Program(guard_over_two_locations())
    cen = census(program)
    for optimal in (True, False):
        got = Outcomes()
        res = explore_dpor(program, optimal=optimal, budget=Budget(), outcomes=got)
        assert got == cen.outcomes
        if optimal:
            assert res.stats.executions == len(cen.classes) == 3


def test_several_choices_one_execution_per_trace() -> None:
    program = Program(two_choices())
    assert len(census(program).classes) == 4
    for strategy in ("optimal", "dpor"):
        res = run(strategy, program, Budget())
        assert res.verdict == HOLDS
        assert res.stats.executions == 4 and res.stats.redundant == 0, strategy


def test_guest_memfd_fallocates_in_either_mode_one_execution_per_trace() -> None:
    # Two fallocates that each choose their mode: optimal once ran 14 executions
    # for these 12 traces (a combination of modes reached from either choice).
    _, program = prepare(scenario="tiny", settings={
        "get_folio": "0", "fallocate": "2", "preservers": "0",
        "fallocate.0.mode": "either", "fallocate.1.mode": "either"})
    classes = len(census(program).classes)
    res = run("optimal", program, Budget())
    assert res.verdict == HOLDS
    assert res.stats.executions == classes and res.stats.redundant == 0
