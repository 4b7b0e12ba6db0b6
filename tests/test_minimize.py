"""The reported counterexample has the fewest context switches of any violating run."""

from __future__ import annotations

import pytest
from common import MUTANTS

from explorer.api import check, prepare
from explorer.search.minimize import context_switches, fewest_switches
from explorer.search.replay import replay
from explorer.search.result import VIOLATED


@pytest.mark.parametrize("mutant", MUTANTS)
def test_minimal_schedule_still_violates_and_is_no_worse(mutant):
    found = check(mutant=mutant, minimize=False).result
    best = check(mutant=mutant).result
    assert found.verdict == best.verdict == VIOLATED
    assert best.failure.name == found.failure.name
    assert (context_switches(best.schedule), len(best.schedule)) <= (
        context_switches(found.schedule), len(found.schedule))
    _, program = prepare(mutant=mutant)
    _, state = replay(program, best.schedule)
    bad = program.failing_invariant(state) or program.failing_final(state)
    assert bad is not None and bad.name == best.failure.name


def _brute_force_min_switches(program, target, horizon):
    """Every schedule of at most `horizon` events: the least switches that violate."""
    best = None
    stack = [(program.initial_state(), [])]
    while stack:
        s, path = stack.pop()
        bad = program.failing_invariant(s)
        if bad is not None:
            if bad.name == target:
                c = context_switches(path)
                best = c if best is None else min(best, c)
            continue
        if len(path) == horizon:
            continue
        for t, v in program.transitions(s):
            s2 = list(s)
            program.execute(s2, t, v)
            stack.append((s2, path + [(t, v)]))
    return best


@pytest.mark.parametrize("mutant", ["no-synchronize", "unlock-before-alloc"])
def test_fewest_switches_matches_brute_force_on_tiny(mutant):
    _, program = prepare(scenario="tiny", mutant=mutant)
    target = "no-change-after-freeze"
    sched = fewest_switches(program, target)
    assert sched is not None
    assert context_switches(sched) == _brute_force_min_switches(program, target, 30)


def test_context_switches_counts_thread_changes():
    assert context_switches([]) == 0
    assert context_switches([(0, None), (0, None), (1, None), (0, None)]) == 2


def test_deadlock_is_shrunk_to_the_threads_it_needs():
    o = check("srcu", scenario="self-deadlock")
    assert o.result.verdict == VIOLATED and o.result.failure.name == "deadlock-free"
    assert o.shrunk is not None
    kept = [t.name for t in o.shrunk.program.threads]
    # whatever was dropped, the smaller model must still deadlock on its schedule
    _, state = replay(o.shrunk.program, o.shrunk.schedule)
    assert not o.shrunk.program.finished(state) and not o.shrunk.program.transitions(state)
    assert set(kept) | {d.split()[-1] for d in o.shrunk.dropped if d.startswith("thread ")} == {
        t.name for t in o.program.threads}
    assert len(kept) < len(o.program.threads)


def test_invariant_violations_are_not_shrunk_by_model_surgery():
    o = check(mutant="no-synchronize")
    assert o.shrunk is None  # unneeded threads simply never run in its counterexample
