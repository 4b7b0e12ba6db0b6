"""--explain: the races whose order decided a violation."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from common import MUTANTS

from explorer.api import check
from explorer.evidence.explain import _violates


@pytest.mark.parametrize("mutant", MUTANTS)
def test_races_are_conflicting_steps_of_two_threads_in_trace_order(mutant):
    o = check(mutant=mutant, explain=True)
    assert o.races, "a violation always has a deciding race in these models"
    for race in o.races:
        a, b = o.trace[race.first - 1], o.trace[race.second - 1]
        assert race.first < race.second
        assert a.thread != b.thread
        touched_a = {k for k, _ in a.reads + a.writes}
        touched_b = {k for k, _ in b.reads + b.writes}
        assert set(race.locations) <= touched_a & touched_b
        written = {k for k, _ in a.writes} | {k for k, _ in b.writes}
        assert written & set(race.locations), "two reads never race"
        assert a.thread_name in race.sentence and b.thread_name in race.sentence


@pytest.mark.parametrize("mutant", MUTANTS)
def test_the_counterexample_itself_violates_under_the_lenient_replay(mutant):
    # The flip test's yardstick must call the unflipped run a violation.
    o = check(mutant=mutant)
    assert _violates(o.program, o.result.schedule, o.result.failure.name)


def test_explain_in_json():
    p = subprocess.run(
        [sys.executable, "-m", "explorer", "check", "--mutant", "no-synchronize", "--explain",
         "--json", "--no-schedule"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 1, p.stderr
    data = json.loads(p.stdout)
    assert data["races"] and all(set(r) == {"first", "second", "locations", "sentence"}
                                 for r in data["races"])
    p = subprocess.run([sys.executable, "-m", "explorer", "check", "--json"],
                       capture_output=True, text=True, timeout=120)
    assert json.loads(p.stdout)["races"] is None
