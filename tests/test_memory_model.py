"""TSO and PSO (explorer/compile/lowering.py) against an independent reference, and DPOR on them.

explorer/compile/lowering.py lowers a model to a sequentially consistent one whose
store buffers are shared variables and whose flushes are daemon threads.
tests/memref.py interprets the same random programs directly on the
machines' definitions (explicit store buffers, every reachable state). For
random weak-memory programs (tests/randprog.py, ``programs(weak=True)``):

- on sc, tso and pso, the final outcomes (the variables and each thread's
  register history, kept in a ghost ``r.tN`` since locals are reset when an
  operation returns) of the reference equal those the census reaches on the
  lowered program, and those optimal DPOR reaches in collect mode; neither
  side deadlocks;
- every strategy agrees with the census on the lowered program
  (randprog.compare): optimal explores exactly one execution per
  Mazurkiewicz class, flush events included.

Classic litmus shapes pin the expected verdicts, and a store inside a loop
(an unbounded store buffer) is rejected.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, event, given, settings
from memref import MODELS, Outcome, run
from randprog import REGISTER_BASE, Op, Spec, programs
from weakcheck import check_weak, outcomes

from explorer.compile.lowering import lower
from explorer.compile.program import Program
from explorer.lang.builder import OpBuilder
from explorer.lang.expr import Shared, eq
from explorer.lang.model import Model, ModelError, Thread, VarDecl, branch

WEAK = settings(
    max_examples=250,
    deadline=None,
    derandomize=True,  # the same programs on every run
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _finals(spec: Spec, mm: str, strategy: str) -> tuple[set[Outcome], set[Outcome]]:
    return outcomes(spec, mm, strategy)


def _show(spec: Spec, mm: str, want: frozenset[Outcome], got: set[Outcome], who: str) -> str:
    return (f"\n{spec}\n{spec!r}\n{mm}: only in the reference {sorted(want - got)}, "
            f"only in {who} {sorted(got - want)}")


def _check_against_reference(spec: Spec) -> bool:
    """Reference, census and optimal DPOR agree on every model, and every strategy
    agrees with the census on the lowered models; whether TSO or PSO adds an
    outcome SC does not have."""
    w = check_weak(spec)
    assert not w.mismatches, f"\n{spec}\n{spec!r}\n" + "\n".join(m for _, m in w.mismatches)
    if w.weak:
        event("tso or pso adds outcomes")
    return w.weak


# -- random programs ---------------------------------------------------------------


@WEAK
@given(programs(weak=True))
def test_lowering_matches_reference(spec: Spec) -> None:
    weak = _check_against_reference(spec)
    event("weak behaviour" if weak else "no weak behaviour")
    assert not run(spec, "pso").deadlock  # nothing blocks


@pytest.mark.slow  # the unguarded variant above stays in make test
@WEAK
@given(programs(weak=True, guards=True))
def test_lowering_matches_reference_with_guards(spec: Spec) -> None:
    """With waits and the lock: deadlocks (where they leave memory and registers) too."""
    weak = _check_against_reference(spec)
    event("weak behaviour" if weak else "no weak behaviour")
    event("deadlocks" if run(spec, "pso").deadlock else "no deadlock")


# -- classic litmus shapes --------------------------------------------------------------


def _sb(fence: str | None = None, rmw: str = "") -> Spec:
    """Store buffering: t0: x = 1; r = y    t1: y = 1; r = x."""
    def side(mine: str, other: str) -> tuple[Op, ...]:
        st = Op("xchg", mine, 1, order=rmw) if rmw else Op("store", mine, 1)
        mid = (Op(fence),) if fence else ()
        return (st, *mid, Op("load", other))
    return Spec((0, 0), (side("x", "y"), side("y", "x")))


def _mp(barrier: str = "") -> Spec:
    """Message passing: t0: x = 1; y = 1    t1: r = y; r = x."""
    writer: tuple[Op, ...] = (Op("store", "x", 1), Op("store", "y", 1))
    if barrier == "wmb":
        writer = (Op("store", "x", 1), Op("wmb"), Op("store", "y", 1))
    elif barrier == "rel":
        writer = (Op("store", "x", 1), Op("rel", "y", 1))
    return Spec((0, 0), (writer, (Op("load", "y"), Op("load", "x"))))


def _sb_weak(o: Outcome) -> bool:
    return all(h % REGISTER_BASE == 0 for h in o[1])  # both last loads read 0


def _mp_weak(o: Outcome) -> bool:
    return o[1][1] == 1 * REGISTER_BASE + 0  # t1 read y == 1, then x == 0


def _2p2w_weak(o: Outcome) -> bool:
    return o[0][:2] == (1, 1)


TWO_PLUS_TWO_W = Spec((0, 0), (
    (Op("store", "x", 1), Op("store", "y", 2)),
    (Op("store", "y", 1), Op("store", "x", 2)),
))

# Each: a program, its weak outcome as a predicate, and the models allowing it.
CLASSICS: dict[str, tuple[Spec, object, set[str]]] = {
    "SB": (_sb(), _sb_weak, {"tso", "pso"}),
    "SB+mb": (_sb("mb"), _sb_weak, set()),
    "SB+wmb": (_sb("wmb"), _sb_weak, {"tso", "pso"}),
    "SB+rmb": (_sb("rmb"), _sb_weak, {"tso", "pso"}),
    "SB+xchg": (_sb(rmw="full"), _sb_weak, set()),
    # A relaxed RMW acts on memory here (locked on x86; on PSO it only waits
    # for its own location), and loads are not reordered: no SB on either.
    "SB+xchg_relaxed": (_sb(rmw="relaxed"), _sb_weak, set()),
    "SB+this_cpu_xchg": (_sb(rmw="plain"), _sb_weak, {"tso", "pso"}),
    "MP": (_mp(), _mp_weak, {"pso"}),
    "MP+wmb": (_mp("wmb"), _mp_weak, set()),
    "MP+release": (_mp("rel"), _mp_weak, set()),
    "2+2W": (TWO_PLUS_TWO_W, _2p2w_weak, {"pso"}),
}


@pytest.mark.parametrize("name", CLASSICS)
@pytest.mark.parametrize("mm", MODELS)
def test_classic(name: str, mm: str) -> None:
    spec, weak, allowed = CLASSICS[name]
    ref = run(spec, mm)
    cen, _ = _finals(spec, mm, "census")
    opt, _ = _finals(spec, mm, "optimal")
    assert cen == ref.finals == opt, _show(spec, mm, ref.finals, cen, "the census")
    assert any(weak(o) for o in cen) == (mm in allowed), sorted(cen)  # type: ignore[operator]
    assert any(ref.finals), "the SC outcomes are always there"


def test_classics_cover_sc() -> None:
    """Every weak outcome above is one SC forbids (the table says so by omission)."""
    for _name, (spec, weak, _allowed) in CLASSICS.items():
        assert not any(weak(o) for o in run(spec, "sc").finals)  # type: ignore[operator]


# -- the store-buffer bound ------------------------------------------------------------


def _loop_model(store_in_loop: bool) -> Model:
    """t0: do { [x = 1;] } while (y == 0)   t1: y = 1."""
    b = OpBuilder("t0")
    if store_in_loop:
        b.add("st", "loop.c:1", "x = 1", writes=["x"], update={Shared("x"): 1}, next="ld")
    b.add("ld", "loop.c:2", "while (y == 0)", reads=["y"],
          next=branch(eq(Shared("y"), 0), "st" if store_in_loop else "ld", "<return>"))
    w = OpBuilder("t1")
    w.add("st", "loop.c:3", "y = 1", writes=["y"], update={Shared("y"): 1})
    threads = (Thread("t0", (b.build(),)), Thread("t1", (w.build(),)))
    return Model("loop", {"x": VarDecl(0), "y": VarDecl(0)}, {}, threads)


@pytest.mark.parametrize("mm", ("tso", "pso"))
def test_store_in_loop_is_rejected(mm: str) -> None:
    with pytest.raises(ModelError, match="store inside a loop"):
        lower(_loop_model(True), mm)
    lower(_loop_model(True), "sc")  # SC has no buffer to bound
    Program(lower(_loop_model(False), mm))  # a spin loop of loads is fine


def test_weak_generator() -> None:
    """Weak programs: deterministic, within their bounds, rebuilt by repr, valid when
    lowered, and covering every kind and order."""
    import random

    import randprog
    from randprog import WEAK_MAX_INTERLEAVINGS, WEAK_MAX_STEPS, lowered_interleavings

    seen: set[tuple[str, str]] = set()
    for guards in (False, True):
        a = [randprog.random_program(random.Random(k), weak=True, guards=guards)
             for k in range(150)]
        assert a == [randprog.random_program(random.Random(k), weak=True, guards=guards)
                     for k in range(150)]
        for spec in a:
            assert spec.steps <= WEAK_MAX_STEPS
            assert lowered_interleavings(spec.threads) <= WEAK_MAX_INTERLEAVINGS
            assert eval(repr(spec), vars(randprog)) == spec
            for mm in MODELS:
                Program(lower(spec.model(registers=True), mm))  # validates
            kinds = {op.kind for ops in spec.threads for op in ops}
            assert guards or not kinds & {"wait", "lock"}
            seen |= {(op.kind, op.order) for ops in spec.threads for op in ops}
    rmws = {(k, o) for k in randprog.RMW_KINDS for o in randprog.RMW_ORDERS}
    others = {(k, "") for k in randprog.WEAK_KINDS if k not in randprog.RMW_KINDS}
    assert seen == rmws | others | {("wait", ""), ("lock", "full"), ("unlock", "release")}
