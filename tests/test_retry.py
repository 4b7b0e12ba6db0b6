"""Retry steps (Step.retry, Program.cut_off): never exploring the retry of a
failed read-only scan loses no final state and no deadlock.

Random programs: writer threads change two counters; a scanner loads them
(in a random order, with a random success test), and on failure waits until
something it read has changed and scans again. The same program with the
retry taken for real (an ordinary guarded step) is the reference: brute
force over both must reach the same final states and the same verdict on
deadlock, and optimal DPOR must agree with brute force on the cut-off form.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.compile.program import Program
from explorer.lang.builder import OpBuilder
from explorer.lang.expr import Ghost, Local, Shared, eq, lor, ne
from explorer.lang.model import DONE, Model, ModelError, Operation, Thread, VarDecl, branch
from explorer.search import run
from explorer.search.budget import Budget
from explorer.search.dpor import Outcomes, explore_dpor
from explorer.search.oracle import census
from explorer.search.result import DEADLOCK

COUNTERS = ("c0", "c1")
WriterOp = tuple[str, int, int]  # ("inc" | "store", counter index, value)


def _writer(name: str, ops: list[WriterOp]) -> Operation:
    b = OpBuilder(name)
    for k, (kind, c, v) in enumerate(ops):
        x = COUNTERS[c]
        nxt = f"w{k + 1}" if k + 1 < len(ops) else DONE
        if kind == "inc":
            b.add(f"w{k}", "t", f"{x}++", reads=[x], writes=[x], update={Shared(x): Shared(x) + 1},
                  next=nxt)
        else:
            b.add(f"w{k}", "t", f"{x} = {v}", writes=[x], update={Shared(x): v}, next=nxt)
    return b.build()


def _scanner(order: list[int], test: str, retry: bool) -> Operation:
    b = OpBuilder("scan")
    seen = {c: b.local(f"r{c}") for c in order}
    for k, c in enumerate(order):
        nxt = f"l{k + 1}" if k + 1 < len(order) else "check"
        b.add(f"l{k}", "t", f"r{c} = {COUNTERS[c]}", reads=[COUNTERS[c]],
              update={seen[c]: Shared(COUNTERS[c])}, next=nxt)
    regs = [seen[c] for c in order]
    ok = eq(regs[0], regs[-1]) if test == "equal" else ne(regs[0] + regs[-1], 1)
    b.add("check", "t", "did the scan pass?", next=branch(ok, "publish", "retry"))
    b.add("publish", "t", "publish what the passing scan saw", writes=["seen"],
          update={Ghost("seen"): _pack(regs) + 1})
    if retry:
        b.add("retry", "t", "scan again", retry=True, next="l0")
    else:
        # The reference: a real loop. Waiting until a counter changes is the
        # spin loop without its idle rescans (each reads the same and fails).
        b.add("retry", "t", "wait until a counter changes, then scan again",
              reads=[COUNTERS[c] for c in order],
              guard=lor(*(ne(Shared(COUNTERS[c]), seen[c]) for c in order)),
              next="l0", atomic=len(order) > 1)
    return b.build()


def _pack(regs: list[Local]) -> object:
    out = regs[0]
    for r in regs[1:]:
        out = out * 16 + r
    return out


def _model(writers: list[list[WriterOp]], order: list[int], test: str, init: list[int],
           retry: bool) -> Model:
    threads = [Thread(f"w{n}", (_writer(f"w{n}", ops),)) for n, ops in enumerate(writers)]
    threads.append(Thread("scanner", (_scanner(order, test, retry),)))
    shared = {x: VarDecl(i) for x, i in zip(COUNTERS, init, strict=True)}
    return Model("retry", shared, {"seen": VarDecl()}, tuple(threads))


writer_op = st.tuples(st.sampled_from(["inc", "store"]), st.integers(0, 1), st.integers(0, 2))
cases = st.tuples(
    st.lists(st.lists(writer_op, min_size=1, max_size=3), min_size=1, max_size=2),
    st.sampled_from([[0], [0, 1], [1, 0]]),
    st.sampled_from(["equal", "sum-not-1"]),
    st.lists(st.integers(0, 1), min_size=2, max_size=2),
)


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(cases)
def test_cut_off_keeps_every_final_state_and_deadlock(case) -> None:  # type: ignore[no-untyped-def]
    writers, order, test, init = case
    real = census(Program(_model(writers, order, test, init, retry=False)))
    cut_prog = Program(_model(writers, order, test, init, retry=True))
    cut = census(cut_prog)
    assert cut.outcomes.finals == real.outcomes.finals
    assert (DEADLOCK in cut.outcomes.violations) == (DEADLOCK in real.outcomes.violations)
    got = Outcomes()
    explore_dpor(cut_prog, optimal=True, budget=Budget(), outcomes=got)
    assert got.finals == cut.outcomes.finals
    assert (DEADLOCK in got.violations) == (DEADLOCK in cut.outcomes.violations)


def test_a_scan_nothing_can_wake_is_a_deadlock_and_one_that_can_is_cut_off() -> None:
    # c0 = 1 and no writer: "equal" over (c0, c1) fails forever.
    stuck = Program(_model([[("store", 0, 1)]], [0, 1], "equal", [1, 0], retry=True))
    out = census(stuck)
    assert DEADLOCK in out.outcomes.violations
    # A writer that makes the counters equal: some runs are cut off, none deadlock.
    wakes = Program(_model([[("inc", 1, 0)]], [0, 1], "equal", [1, 0], retry=True))
    res = explore_dpor(wakes, optimal=True, budget=Budget())
    assert res.verdict == "holds" and res.stats.cut_off > 0


# -- the precondition, checked on load -------------------------------------------------


def _scan_of(x_wanted: int, *, count: str = "", guard: bool = False) -> Model:
    """scan: r = c0; if r == x_wanted leave, else retry; writer: c0 = 1. ``count``:
    "ghost" counts attempts in a ghost, "local" in a local read after the loop."""
    b = OpBuilder("scan")
    r, n = b.local("r"), b.local("n")
    upd: dict = {r: Shared("c0")}
    reads, writes = ["c0"], []
    if count == "ghost":
        upd[Ghost("tries")] = Ghost("tries") + 1
        reads, writes = ["c0", "tries"], ["tries"]
    if count == "local":
        upd[n] = n + 1
    b.add("h", "t", "r = c0", reads=reads, writes=writes, update=upd,
          next=branch(eq(r, x_wanted), "out", "retry"))
    b.add("out", "t", "tries = n", writes=["tries"], update={Ghost("tries"): n})
    if guard:
        b.add("retry", "t", "retry", reads=["c0"], guard=ne(Shared("c0"), r), retry=True, next="h")
    else:
        b.add("retry", "t", "retry", retry=True, next="h")
    return Model("scan", {"c0": VarDecl()}, {"tries": VarDecl()},
                 (Thread("scan", (b.build(),)), Thread("w", (_writer("w", [("store", 0, 1)]),))))


def test_a_loop_that_counts_its_attempts_is_refused() -> None:
    # Regression: "at most one attempt" used to hold under every strategy.
    for count in ("ghost", "local"):
        with pytest.raises(ModelError, match="retried loop may only read|carries local 'n'"):
            Program(_scan_of(1, count=count))


def test_a_retry_step_takes_no_guard_of_its_own() -> None:
    with pytest.raises(ModelError, match="computed from the loop itself"):
        Program(_scan_of(1, guard=True))


def test_a_scan_that_can_never_succeed_hangs() -> None:
    # Regression: a retry without a guard was "cut off" for ever and
    # deadlock-free held while the scanner hangs (it waits for c0 == 5).
    program = Program(_scan_of(5))
    cen = census(program)
    assert DEADLOCK in cen.outcomes.violations
    for strategy in ("optimal", "dpor", "stateful", "naive"):
        res = run(strategy, program, Budget())
        assert res.verdict == "violated" and res.failure is not None, strategy
        assert res.failure.name == DEADLOCK
    # ... and one that can succeed once c0 = 1 is cut off where it read 0, never stuck.
    res = run("optimal", Program(_scan_of(1)), Budget())
    assert res.verdict == "holds" and res.stats.cut_off == 1
