"""Litmus tests against their published verdicts on SC, x86-TSO (`tso`) and SPARC PSO (`pso`).

"allowed": the explorer reaches the test's weak outcome (weak-outcome-absent
is violated, exit 1) and its counterexample really ends in that outcome;
"forbidden": the property holds exhaustively (exit 0). Expectations come
from the architecture manuals and papers cited per row, never from what the
explorer answers: a disagreement is a bug in the explorer (or the model).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from explorer.models.litmus import BY_NAME, TESTS
from explorer.specs.litmus import NAME

from explorer.api import check
from explorer.lang.expr import MASK, Ghost
from explorer.search.budget import Budget
from explorer.search.result import HOLDS, VIOLATED

A, F = "allowed", "forbidden"
MODELS = ("sc", "tso", "pso")

# Where the verdicts come from.
SC = "SC: Lamport 1979, an interleaving of the program orders"
SDM = "Intel SDM vol. 3A §8.2.3"
X86TSO = (
    "Sewell, Sarkar, Owens, Zappa Nardelli, Myreen, 'x86-TSO: A Rigorous and Usable "
    "Programmer's Model for x86 Multiprocessors', CACM 53(7), 2010"
)
SPARC = (
    "SPARC Architecture Manual V8, appendix K (PSO axioms: LoadOp orders a load, and an "
    "atomic load-store, before every later access; StoreStore orders stores only across "
    "STBAR; Atomicity; Value, i.e. store forwarding); V9 §8.4.4 / appendix D"
)
PSO_OP = (
    "Abdulla, Aronis, Atig, Jonsson, Leonardsson, Sagonas, 'Stateless Model Checking for "
    "TSO and PSO', TACAS 2015 (store buffer per CPU and location); Burckhardt & Musuvathi, "
    "'Effective Program Verification for Relaxed Memory Models', CAV 2008"
)
KERNEL = (
    "Documentation/atomic_t.txt and memory-barriers.txt: xchg() and value-returning RMWs "
    "are fully ordered (smp_mb() before and after); smp_store_release() orders all "
    "earlier accesses before the store"
)
LKMM = "tools/memory-model/litmus-tests in the kernel"


@dataclass(frozen=True)
class Row:
    test: str
    sc: str
    tso: str
    pso: str
    why: str  # the published verdicts, with their sources

    def expected(self, model: str) -> str:
        return str(getattr(self, model))


TABLE = (
    Row("SB", F, A, A,
        f"{LKMM}: SB+poonceonces; TSO: {SDM}.4 Example 8-3 'loads may be reordered with "
        f"earlier stores to different locations', {X86TSO} §2 (SB); PSO relaxes store->load "
        f"like TSO: {SPARC}, {PSO_OP}"),
    Row("SB+mbs", F, F, F,
        f"{LKMM}: SB+fencembonceonces; TSO: {X86TSO} (SB+mfences: MFENCE drains the buffer); "
        f"PSO: smp_mb() is membar #StoreLoad, {SPARC}"),
    Row("SB+rfi", F, A, A,
        f"{LKMM}: SB+rfionceonce-poonceonces; TSO: {SDM}.5 Example 8-5 'intra-processor "
        f"forwarding is allowed', {X86TSO}; PSO: the Value axiom forwards a CPU's own "
        f"buffered store, {SPARC}"),
    Row("SB+xchgs", F, F, F,
        f"TSO: {SDM}.9 Example 8-9 'loads are not reordered with locks' (XCHG with memory "
        f"is always locked); PSO: {KERNEL}; {SPARC} (Atomicity + LoadOp)"),
    Row("SB+xchg-relaxeds", F, F, F,
        f"TSO: {SDM}.9 Example 8-9 (any locked instruction); PSO: a SWAP is a load, so "
        f"LoadOp orders it before the later load and Atomicity puts its store next to its "
        f"load in memory order: {SPARC}"),
    Row("MP", F, F, A,
        f"{LKMM}: MP+poonceonces; TSO: {SDM}.2 Example 8-1 'stores are not reordered with "
        f"other stores, loads not with other loads', {X86TSO}; PSO: stores to different "
        f"locations reach memory out of order without STBAR, {SPARC}, {PSO_OP}"),
    Row("MP+wmb+rmb", F, F, F,
        f"{LKMM}: MP+fencewmbonceonce+fencermbonceonce; TSO: {SDM}.2 Example 8-1; PSO: "
        f"smp_wmb() is STBAR (membar #StoreStore), loads stay in order (LoadOp), {SPARC}"),
    Row("MP+wmb", F, F, F,
        f"TSO: {SDM}.2 Example 8-1; PSO: STBAR orders the stores and LoadOp the loads "
        f"without any rmb, {SPARC}"),
    Row("MP+rmb", F, F, A,
        f"TSO: {SDM}.2 Example 8-1; PSO: the stores are still unordered without STBAR, "
        f"{SPARC}, {PSO_OP}"),
    Row("MP+rel-acq", F, F, F,
        f"{LKMM}: MP+pooncerelease+poacquireonce; TSO: {SDM}.2 Example 8-1; PSO: {KERNEL} "
        f"(a release store is preceded by STBAR), {SPARC}"),
    Row("MP+xchg", F, F, F,
        f"TSO: {SDM}.2 Example 8-1 and .9 (stores not reordered with locks); PSO: {KERNEL}"),
    Row("MP+xchg-relaxed", F, F, A,
        f"TSO: {SDM}.9 Example 8-10 'stores are not reordered with locks'; PSO: the SWAP's "
        f"store is a store, unordered with the earlier store to x without STBAR (V9 §8.4.4.4: "
        f"only #LoadLoad|#LoadStore follow an atomic), {SPARC}"),
    Row("LB", F, F, F,
        f"{LKMM}: LB+poonceonces; TSO: {SDM}.3 Example 8-2 'stores are not reordered with "
        f"older loads', {X86TSO}; PSO: LoadOp, {SPARC}"),
    Row("2+2W", F, F, A,
        f"TSO: {SDM}.2 (stores are not reordered with other stores), {X86TSO} (FIFO store "
        f"buffer); PSO: stores to different locations unordered without STBAR, {SPARC}, "
        f"{PSO_OP}"),
    Row("2+2W+wmbs", F, F, F,
        f"TSO: {SDM}.2, {X86TSO}; PSO: StoreStore across STBAR, {SPARC}"),
    Row("WRC", F, F, F,
        f"{LKMM}: WRC+poonceonces+Once; TSO: {SDM}.6 Example 8-6 'stores are transitively "
        f"visible', {X86TSO}; PSO: one memory order (store atomicity) and LoadOp, {SPARC}"),
    Row("IRIW", F, F, F,
        f"{LKMM}: IRIW+poonceonces+OnceOnce; TSO: {SDM}.7 Example 8-7 'stores are seen in a "
        f"consistent order by other processors', {X86TSO}; PSO: one total memory order over "
        f"all stores and loads in order (LoadOp), {SPARC}"),
    Row("IRIW+mbs", F, F, F,
        f"{LKMM}: IRIW+fencembonceonces+OnceOnce; TSO: {SDM}.7 Example 8-7; PSO: {SPARC}"),
    Row("INC+atomic", F, F, F,
        f"TSO: Intel SDM vol. 3A §8.1.2.2 (LOCK-prefixed read-modify-writes are atomic; "
        f"atomic_inc() is 'lock incl'); PSO: {KERNEL}, {SPARC} (Atomicity)"),
    Row("INC+this_cpu", F, A, A,
        "SC: one instruction is one indivisible step; TSO: Intel SDM vol. 3A §8.1.2.2 (only "
        f"locked read-modify-writes are atomic), {X86TSO} (an unlocked INC is a read and a "
        f"write through the store buffer); PSO: same, {PSO_OP}; this_cpu ops are atomic "
        "only against their own CPU (Documentation/core-api/this_cpu_ops.rst)"),
    Row("INC+plain", A, A, A,
        "a data race, not a weak-memory effect: both loads may run before either store "
        f"under every interleaving semantics ({SC}), so TSO and PSO allow it too"),
)
ROWS = {r.test: r for r in TABLE}
# The one row whose outcome is reachable under SC: a race, not a reordering.
RACES = {"INC+plain"}

CASES = [(r.test, m, r.expected(m)) for r in TABLE for m in MODELS]


def _values(outcome) -> dict[str, int]:
    """The weak outcome's locations as they are when the counterexample ends."""
    program, state = outcome.program, outcome.final_state
    test = BY_NAME[outcome.setup.values["test"]]
    got: dict[str, int] = {}
    for name, _ in test.outcome:
        var = test.var(name)
        assert isinstance(var, Ghost) == (name in test.register_names()), name
        assert program.names[program.slot[var]] == name
        got[name] = state[program.slot[var]]
    return got


@pytest.mark.parametrize(("test", "model", "expected"), CASES,
                         ids=[f"{t}-{m}" for t, m, _ in CASES])
def test_published_verdict(test: str, model: str, expected: str) -> None:
    o = check(model="litmus", scenario=test, memory_model=model, budget=Budget())
    r = o.result
    why = ROWS[test].why
    if expected == F:
        assert r.verdict == HOLDS, f"{test} on {model}: expected forbidden ({why}), got {r.verdict}"
        assert r.exit_code == 0 and r.failure is None
        return
    assert r.verdict == VIOLATED, f"{test} on {model}: expected allowed ({why}), got {r.verdict}"
    assert r.exit_code == 1
    assert r.failure is not None and r.failure.name == NAME
    # The counterexample is a real run to the weak outcome, not just a verdict.
    assert o.trace and o.final_state is not None
    want = {k: v & MASK for k, v in BY_NAME[test].outcome}
    assert _values(o) == want
    assert o.program is not None and o.program.finished(o.final_state)


@pytest.mark.parametrize("strategy", ["stateful", "dpor"])
@pytest.mark.parametrize("model", MODELS)
def test_strategies_agree(strategy: str, model: str) -> None:
    """The whole column again with other search strategies: same verdicts."""
    for row in TABLE:
        o = check(model="litmus", scenario=row.test, memory_model=model, strategy=strategy,
                  budget=Budget(), minimize=False)
        want = VIOLATED if row.expected(model) == A else HOLDS
        assert o.result.verdict == want, (row.test, model, strategy)


def test_table_covers_every_scenario() -> None:
    assert [r.test for r in TABLE] == [t.name for t in TESTS]
    for r in TABLE:
        assert {r.sc, r.tso, r.pso} <= {A, F}, r.test
        assert r.why, r.test


def test_weaker_models_only_add_outcomes() -> None:
    """Computed, not read from the table: whatever SC reaches, TSO reaches, and
    whatever TSO reaches, PSO reaches; under SC only a plain race does."""
    reached = {
        (row.test, mm): check(model="litmus", scenario=row.test, memory_model=mm,
                              budget=Budget(), minimize=False).result.verdict == VIOLATED
        for row in TABLE for mm in MODELS
    }
    for row in TABLE:
        sc, tso, pso = (reached[(row.test, mm)] for mm in ("sc", "tso", "pso"))
        assert sc <= tso <= pso, row.test
    assert {t for (t, mm), hit in reached.items() if mm == "sc" and hit} == RACES


def test_steps_name_test_and_process() -> None:
    for t in ("SB", "IRIW", "MP+rel-acq"):
        o = check(model="litmus", scenario=t, budget=Budget())
        assert o.program is not None
        for thread in o.program.model.threads:
            for op in thread.ops:
                for step in op.steps:
                    assert step.line == f"litmus/{t} {thread.name}"
                    assert step.code.endswith(";")


def test_cli_exit_codes(run_cli) -> None:
    allowed = run_cli("check", "litmus", "--scenario", "MP", "--memory-model", "pso")
    assert allowed.returncode == 1, allowed.stderr
    assert "r1.P1=0" in allowed.stdout and "litmus/MP P0" in allowed.stdout
    forbidden = run_cli("check", "litmus", "--scenario", "MP", "--memory-model", "tso")
    assert forbidden.returncode == 0, forbidden.stderr
