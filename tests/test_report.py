"""The text report: a swimlane per thread within 100 columns, then the detailed steps."""

from __future__ import annotations

import pytest
from common import MUTANTS

from explorer.api import check
from explorer.report import WIDTH, swimlane, text


@pytest.mark.parametrize("mutant", MUTANTS)
def test_report_fits_in_100_columns(mutant):
    out = text(check(mutant=mutant))
    assert max(len(line) for line in out.splitlines()) <= WIDTH


@pytest.mark.parametrize("mutant", MUTANTS)
def test_swimlane_puts_each_step_in_its_threads_column(mutant):
    o = check(mutant=mutant)
    names = [t.name for t in o.program.threads]
    lines = swimlane(o.trace, names)
    header = lines[0]
    starts = [header.index(name) for name in names]
    numbered = [line for line in lines[2:] if line[:5].strip().endswith(".")]
    assert len(numbered) == len(o.trace)
    for line, rec in zip(numbered, o.trace, strict=True):
        column = len(line) - len(line[5:].lstrip()) if line[5:].strip() else None
        assert column == starts[rec.thread], (line, rec.thread_name)
        shown = line.strip().split(maxsplit=1)[1].lstrip("+")
        assert rec.label.startswith(shown)  # a long label continues on the next line
