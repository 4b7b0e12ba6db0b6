"""The unmutated model holds everywhere, and the visited-state cache loses no schedule."""

from __future__ import annotations

import itertools

import pytest
from explorer.models.guest_memfd import MUTANTS as PROTOCOL_MUTANTS

from explorer.api import check
from explorer.catalog import load
from explorer.compile.program import Program
from explorer.lang.builder import OpBuilder
from explorer.lang.model import Model, Thread, VarDecl
from explorer.search.budget import Budget
from explorer.search.dfs import explore
from explorer.search.replay import replay
from explorer.search.result import DEADLOCK, HOLDS, VIOLATED

# The protocol mutants (the barrier mutants need --srcu impl: tests/test_srcu_impl.py).
MUTANTS = tuple(m.name for m in PROTOCOL_MUTANTS)

MATRIX = [
    {"get_folio": str(g), "fallocate": str(f), "pages": str(p)}
    for g, f, p in itertools.product((1, 2, 3), (0, 1), (1, 2))
]
NAMED = ["default", "small", "faults", "repeat", "two-inodes", "tiny"]
ORACLE_SCENARIOS = ["tiny", "small"]  # small enough for the naive strategy


def _expected_properties() -> list[str]:
    entry = load().get("guest_memfd")
    return [p.name for p in entry.properties] + [DEADLOCK]


def _assert_holds(o) -> None:
    r = o.result
    assert r.verdict == HOLDS, f"{r.verdict}: {r.failure} {r.reason}"
    assert r.exit_code == 0
    assert r.failure is None and r.schedule is None and r.reason == ""
    assert o.trace is None and o.final_state is None
    assert sorted(r.properties) == sorted(_expected_properties())
    st = r.stats
    assert st.executions >= 1 and st.schedules >= 1
    assert st.states >= 1 and st.events >= st.states - 1
    assert st.seconds >= 0


@pytest.mark.parametrize(
    "settings", MATRIX, ids=lambda s: "g{get_folio}-f{fallocate}-p{pages}".format(**s)
)
def test_holds_on_matrix(run_check, settings):
    o = run_check(settings=settings)
    # the settings took effect
    for key, value in settings.items():
        assert o.setup.values[key] == int(value)
    threads = [t.name for t in o.program.threads]
    assert sum(n.startswith("get_folio") for n in threads) == int(settings["get_folio"])
    assert sum(n.startswith("fallocate") for n in threads) == int(settings["fallocate"])
    _assert_holds(o)


@pytest.mark.parametrize("scenario", NAMED)
def test_holds_on_named_scenario(run_check, scenario):
    o = run_check(scenario=scenario)
    assert o.setup.scenario == scenario
    _assert_holds(o)


# The naive count of small takes ~30 s: make test-long.
@pytest.mark.parametrize("scenario", ["tiny", pytest.param("small", marks=pytest.mark.slow)])
def test_cache_accounts_for_every_schedule(run_check, scenario):
    stateful = run_check(scenario=scenario, strategy="stateful").result
    naive = run_check(scenario=scenario, strategy="naive").result
    assert naive.verdict == stateful.verdict == HOLDS
    # naive runs every schedule to its end, so both of its counts are the truth
    assert naive.stats.executions == naive.stats.schedules
    assert stateful.stats.schedules == naive.stats.schedules
    # and the cache did prune something
    assert stateful.stats.states <= naive.stats.states
    assert stateful.stats.events <= naive.stats.events


@pytest.mark.parametrize("scenario", ORACLE_SCENARIOS)
@pytest.mark.parametrize("mutant", MUTANTS)
def test_strategies_agree_on_mutants(run_check, property_false, mutant, scenario):
    stateful = run_check(scenario=scenario, mutant=mutant, strategy="stateful")
    naive = run_check(scenario=scenario, mutant=mutant, strategy="naive")
    assert stateful.result.verdict == naive.result.verdict
    assert stateful.result.verdict in (HOLDS, VIOLATED)
    if naive.result.verdict == VIOLATED:
        assert stateful.result.failure.name == naive.result.failure.name
        for o in (stateful, naive):
            _, state = replay(o.program, o.result.schedule)
            assert property_false(o.program, state, o.result.failure.name)
    else:
        assert stateful.result.stats.schedules == naive.result.stats.schedules


@pytest.mark.parametrize("cache", [True, False], ids=["stateful", "naive"])
def test_run_ending_in_the_initial_state_is_counted(cache):
    """Every step is local, so the initial state is already final: one schedule, one
    execution, one state, exactly as for any other run that reaches its end."""
    b = OpBuilder("compute")
    v = b.local("v")
    b.add("set", "t.c:1", "v = 1;", update={v: 1})
    model = Model("all-local", {"x": VarDecl()}, {}, (Thread("t", (b.build(),)),))
    r = explore(Program(model), cache=cache, budget=Budget())
    assert r.verdict == HOLDS
    assert r.stats.schedules == 1
    assert r.stats.executions == r.stats.schedules
    assert r.stats.states >= 1


def _other_exhaustive_strategies() -> list[str]:
    """Strategies besides stateful/naive that can prove `holds` (random never does)."""
    from explorer.search import STRATEGIES

    return [
        name for name in STRATEGIES
        if name not in ("stateful", "naive")
        and check(scenario="tiny", strategy=name).result.verdict == HOLDS
    ]


# The naive oracle of the unmutated small scenario takes ~30 s: make test-long.
_ORACLE_CASES = [
    pytest.param(m, sc, marks=pytest.mark.slow) if (m, sc) == (None, "small") else (m, sc)
    for sc in ORACLE_SCENARIOS for m in [None, *MUTANTS]
]


@pytest.mark.parametrize("strategy", _other_exhaustive_strategies())
@pytest.mark.parametrize(("mutant", "scenario"), _ORACLE_CASES)
def test_other_strategies_agree_with_the_oracle(run_check, property_false, strategy, scenario,
                                               mutant):
    oracle = run_check(scenario=scenario, mutant=mutant, strategy="naive").result
    o = run_check(scenario=scenario, mutant=mutant, strategy=strategy)
    assert o.result.verdict == oracle.verdict
    if oracle.verdict == VIOLATED:
        assert o.result.failure.name == oracle.failure.name
        _, state = replay(o.program, o.result.schedule)
        assert property_false(o.program, state, o.result.failure.name)
