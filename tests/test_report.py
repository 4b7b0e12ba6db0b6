"""The text report: a swimlane per thread within 100 columns, then the detailed steps."""

from __future__ import annotations

import pytest
from common import MUTANTS

from explorer.api import check
from explorer.evidence.report import WIDTH, columns, swimlane, text


@pytest.mark.parametrize("mutant", MUTANTS)
def test_report_fits_in_100_columns(mutant):
    out = text(check(mutant=mutant))
    assert max(len(line) for line in out.splitlines()) <= WIDTH


@pytest.mark.parametrize("mutant", MUTANTS)
def test_swimlane_puts_each_step_in_its_threads_column(mutant):
    o = check(mutant=mutant)
    _assert_columns(o)


def _assert_columns(o) -> None:
    names, where = columns(o.program)
    lines = swimlane(o.trace, o.program)
    header = lines[0]
    starts = [header.index(names[where[t]][:14]) for t in range(len(o.program.threads))]
    numbered = [line for line in lines[2:] if line[:5].strip().endswith(".")]
    assert len(numbered) == len(o.trace)
    for line, rec in zip(numbered, o.trace, strict=True):
        column = len(line) - len(line[5:].lstrip()) if line[5:].strip() else None
        assert column == starts[rec.thread], (line, rec.thread_name)
        if o.program.threads[rec.thread].daemon:  # a flush: under the CPU's own thread
            assert o.program.model.threads[rec.thread].home == rec.thread_name.split(".")[1]
        shown = line.strip().split(maxsplit=1)[1].lstrip("+")
        assert rec.label.startswith(shown)  # a long label continues on the next line


def test_weak_memory_report_fits_and_flushes_sit_with_their_cpu():
    o = check(mutant="no-mb-in-read-lock", srcu="impl", memory_model="tso")
    out = text(o)
    assert max(len(line) for line in out.splitlines()) <= WIDTH
    assert any(o.program.threads[r.thread].daemon for r in o.trace)  # a flush was needed
    _assert_columns(o)


def test_the_header_describes_the_parameters_checked_not_the_scenario_s_own():
    """--set changing a parameter is named in the header (symbolic ones as such); one
    set to the scenario's own value, or none, leaves the description alone."""
    from explorer import api

    own, _ = api.prepare(scenario="tiny")
    assert "changed by --set" not in own.scenario_description
    same, _ = api.prepare(scenario="tiny", settings={"get_folio": str(own.values["get_folio"])})
    assert same.scenario_description == own.scenario_description
    more, _ = api.prepare(scenario="tiny", settings={"get_folio": "3"})
    assert more.scenario_description.startswith(own.scenario_description)
    assert more.scenario_description.endswith("changed by --set: get_folio=3")
    sym, _ = api.prepare(scenario="small", settings={"fallocate.0.len": "?"})
    assert "fallocate.0.len=? (symbolic)" in sym.scenario_description
