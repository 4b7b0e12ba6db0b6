"""The DPOR strategies against brute force on guest_memfd scenarios small enough to enumerate.

The census (explorer.search.oracle) runs every schedule and groups them into
Mazurkiewicz traces; optimal must run exactly one execution per trace, dpor
at least one, and both reach the census's final states, deadlocks and
violations. Collect mode and the census go on past a violation, so this
holds with a mutant too.
"""

from __future__ import annotations

import pytest

from explorer.api import prepare
from explorer.search.budget import Budget
from explorer.search.dpor import Outcomes, explore_dpor
from explorer.search.oracle import census

SCENARIOS = [
    ("tiny", {}),
    ("tiny", {"preserver.0.ops": "preserve,unpreserve"}),
    ("tiny", {"get_folio": "0", "fallocate": "1"}),  # mode either: a choice
    ("tiny", {"get_folio": "0", "fallocate": "1", "fallocate.0.mode": "punch-hole",
              "present": "0"}),
    ("repeat", {"fallocate": "0"}),  # freeze, unfreeze, freeze again
]


@pytest.mark.parametrize("mutant", [None, "no-synchronize", "unlock-before-alloc"])
@pytest.mark.parametrize(("scenario", "settings"), SCENARIOS)
def test_optimal_runs_one_execution_per_trace(scenario, settings, mutant):
    _, program = prepare(scenario=scenario, settings=settings, mutant=mutant)
    c = census(program)
    for optimal in (True, False):
        out = Outcomes()
        r = explore_dpor(program, optimal=optimal, budget=Budget(), outcomes=out)
        if optimal:
            assert r.stats.executions == len(c.classes)
        else:
            assert r.stats.executions >= len(c.classes)
        if optimal:
            assert r.stats.sleep_blocked == 0
        assert out.finals == c.outcomes.finals
        assert out.deadlocks == c.outcomes.deadlocks
        assert out.violations == c.outcomes.violations
