"""The verdict matrix generator (explorer/tools/verdicts.py): cells come from the explorer."""

from __future__ import annotations

from dataclasses import asdict

from explorer.tools.verdicts import NOTES, check_cell, markdown


def test_cells_are_decided_by_the_explorer() -> None:
    na = check_cell("guest_memfd", "no-mb-in-read-lock", "abstract", "sc", 60)
    assert na.verdict == "n/a" and "impl" in na.reason
    sb = check_cell("guest_memfd", "no-mb-in-read-lock", "impl", "tso", 60)
    assert sb.verdict == "violated" and sb.property == "no-change-after-freeze"
    assert sb.shortest and sb.shortest_exact and sb.scenario == "small"
    assert "still in its store buffer" in sb.evidence  # the stale read, from the trace
    sc = check_cell("srcu", "single-scan", "impl", "sc", 60)
    assert sc.verdict == "violated" and "store buffer" not in sc.evidence
    doc = {"date": "d", "machine": "m", "timeout": 60.0,
           "cells": [asdict(c) for c in (na, sb, sc)]}
    md = markdown(doc)
    assert "| mutant | abstract SRCU, SC | impl SRCU, TSO |" in md
    assert NOTES[("*", "no-mb-in-read-lock")] in md
    assert f"{sb.shortest} steps" in md
