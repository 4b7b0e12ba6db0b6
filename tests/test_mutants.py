"""Every mutant of the guest_memfd model is caught, with a counterexample that stands up."""

from __future__ import annotations

import pytest
from common import MUTANTS
from explorer.models.guest_memfd import FIX_NAMES, INVALIDATE_NAMES
from explorer.models.srcu_impl import BARRIER_MUTANT_NAMES

from explorer.catalog import load
from explorer.evidence.report import why_lines
from explorer.search.replay import replay
from explorer.search.result import HOLDS, VIOLATED

NO_CHANGE = "no-change-after-freeze"
KERNEL_FILE = "guest_memfd.c"

# The smallest named scenario where the broken code path runs at all: the
# fallocate mutant changes only kvm_gmem_fallocate(), which `tiny` lacks.
NAIVE_SCENARIO = {
    "no-synchronize": "tiny",
    "check-before-lock": "tiny",
    "unlock-before-alloc": "tiny",
    "flag-after-synchronize": "tiny",
    "fallocate-unchecked": "small",
}


def test_mutant_list_matches_the_catalog():
    family = load().get("guest_memfd").family
    # Mutants break the model; fix- and invalidate-lock- variants answer the open
    # questions (tests/test_findings.py).
    assert {m.name for m in family.mutants} == (set(MUTANTS) | BARRIER_MUTANT_NAMES
                                                | set(FIX_NAMES) | set(INVALIDATE_NAMES))
    for m in family.mutants:
        assert m.description


def _cache_writes(rec) -> list[tuple[str, str]]:
    return [(loc, val) for loc, val in rec.writes if loc.startswith("cache.")]


@pytest.mark.parametrize("mutant", MUTANTS)
def test_violated_on_default_with_a_trace(run_check, mutant):
    o = run_check(mutant=mutant)
    r = o.result
    assert r.verdict == VIOLATED, r.reason
    assert r.exit_code == 1
    assert r.failure is not None
    assert r.failure.name in r.properties
    assert r.schedule, "a violation needs at least one step"
    assert o.trace, "empty counterexample trace"
    assert o.final_state is not None
    # one non-fused record per scheduled event, fused records only after one
    assert sum(not rec.fused for rec in o.trace) == len(r.schedule)
    assert not o.trace[0].fused
    assert [rec.thread for rec in o.trace if not rec.fused] == [t for t, _ in r.schedule]
    for rec in o.trace:
        assert rec.line and rec.code and rec.label
        assert rec.thread_name == o.program.threads[rec.thread].name


@pytest.mark.parametrize("scenario", ["default", "small"])
@pytest.mark.parametrize("mutant", MUTANTS)
def test_trace_replays_to_a_violating_state(run_check, property_false, mutant, scenario):
    o = run_check(scenario=scenario, mutant=mutant)
    assert o.result.verdict == VIOLATED
    program, schedule, name = o.program, o.result.schedule, o.result.failure.name
    records, state = replay(program, schedule)
    assert records == o.trace
    assert state == o.final_state
    assert property_false(program, state, name)
    # the state before the last event still satisfies every invariant:
    # the explorer stops at the first bad state
    _, before = replay(program, schedule[:-1])
    assert program.failing_invariant(before) is None
    assert not property_false(program, before, name)


@pytest.mark.parametrize("mutant", MUTANTS)
def test_last_step_writes_the_page_cache(run_check, mutant):
    o = run_check(mutant=mutant)
    assert o.result.verdict == VIOLATED
    if o.result.failure.name == NO_CHANGE:
        last = o.trace[-1]
        assert _cache_writes(last), f"last step {last.label} writes {last.writes}"


@pytest.mark.parametrize("scenario", ["default", "small", "repeat"])
@pytest.mark.parametrize("mutant", MUTANTS)
def test_violating_event_changes_the_cache(run_check, mutant, scenario):
    """The event that breaks no-change-after-freeze changes a page-cache slot, and the
    breach ghost names the thread (1-based) that ran it."""
    o = run_check(scenario=scenario, mutant=mutant)
    assert o.result.verdict == VIOLATED
    if o.result.failure.name != NO_CHANGE:
        return
    lead = next(rec for rec in reversed(o.trace) if not rec.fused)
    # fused records are local steps: they touch no shared location
    tail = o.trace[o.trace.index(lead) + 1 :]
    assert all(rec.fused and not rec.reads and not rec.writes for rec in tail)
    written = dict(_cache_writes(lead))
    assert written, f"{lead.label} writes no page-cache slot"
    read = dict(lead.reads)
    assert any(read.get(loc) != val for loc, val in written.items()), "cache unchanged"
    breaches = [loc for loc, _ in lead.writes if loc.startswith("breach.")]
    assert breaches
    program, state = o.program, o.final_state
    for loc in breaches:
        slot = program.names.index(loc)
        assert state[slot] == lead.thread + 1


def test_report_why_names_the_step_that_broke_the_property(run_check):
    """On `small`, fallocate-unchecked's violating punch_hole is followed by the fused
    local `return ret;`; the text report then says that step made the property false."""
    o = run_check(scenario="small", mutant="fallocate-unchecked")
    assert o.result.verdict == VIOLATED
    lead_index = max(i for i, rec in enumerate(o.trace, 1) if not rec.fused)
    why = why_lines(o)[0]
    assert why.startswith(f"Why: step {lead_index} "), why


@pytest.mark.parametrize("mutant", MUTANTS)
def test_cli_reports_the_violation(run_cli, mutant):
    p = run_cli("check", "--mutant", mutant)
    assert p.returncode == 1, p.stderr
    assert "VIOLATED" in p.stdout
    assert KERNEL_FILE in p.stdout
    assert "HOLDS" not in p.stdout
    assert "Traceback" not in p.stdout + p.stderr


@pytest.mark.parametrize("mutant", MUTANTS)
def test_naive_finds_the_mutant_and_agrees(run_check, property_false, mutant):
    scenario = NAIVE_SCENARIO[mutant]
    naive = run_check(scenario=scenario, mutant=mutant, strategy="naive")
    stateful = run_check(scenario=scenario, mutant=mutant, strategy="stateful")
    assert naive.result.strategy == "naive"
    assert naive.result.verdict == VIOLATED
    assert stateful.result.verdict == naive.result.verdict
    assert stateful.result.failure.name == naive.result.failure.name
    # the naive counterexample is genuine too
    _, state = replay(naive.program, naive.result.schedule)
    assert property_false(naive.program, state, naive.result.failure.name)


def test_fallocate_mutant_is_inert_without_fallocate_threads(run_check):
    """A scenario with no fallocate thread never runs the mutated code: same result."""
    base = run_check(scenario="tiny")
    assert base.result.verdict == HOLDS
    assert base.setup.values["fallocate"] == 0
    for strategy in ("stateful", "naive"):
        plain = run_check(scenario="tiny", strategy=strategy).result
        mutated = run_check(scenario="tiny", mutant="fallocate-unchecked", strategy=strategy).result
        assert mutated.verdict == plain.verdict
        assert mutated.stats.schedules == plain.stats.schedules
        assert mutated.stats.states == plain.stats.states
