"""The verdicts of the series' open questions (reports/findings.md), pinned on the
scenarios that answer them, and the measurement of question (c)."""

from __future__ import annotations

import pytest

from explorer.api import check
from explorer.search.result import HOLDS, VIOLATED
from explorer.tools.findings import Ask, worst_wait

NO_CHANGE, LOST, DEADLOCK = "no-change-after-freeze", "preservation-complete", "deadlock-free"

# (scenario, mutant, settings, properties) -> (verdict, failed property)
CASES = [
    (("shared-inode", None, {}, None), (HOLDS, None)),
    (("shared-inode-fault", None, {}, None), (VIOLATED, NO_CHANGE)),
    (("shared-inode-unpreserve", None, {}, None), (VIOLATED, NO_CHANGE)),
    (("shared-inode-fault", None, {}, (LOST,)), (VIOLATED, LOST)),
    (("shared-inode-fault", "fix-freeze-count", {}, None), (HOLDS, None)),
    (("shared-inode-unpreserve", "fix-freeze-count", {}, None), (HOLDS, None)),
    (("shared-inode-fault", "fix-ebusy", {}, None), (HOLDS, None)),
    (("shared-inode-unpreserve", "fix-ebusy", {}, None), (HOLDS, None)),
    (("shared-inode-fault", "fix-mutex", {}, None), (VIOLATED, NO_CHANGE)),
    (("luo-rollback", None, {}, (NO_CHANGE,)), (VIOLATED, NO_CHANGE)),
    (("luo-rollback", "fix-freeze-count", {}, None), (HOLDS, None)),
    (("luo-rollback", "fix-ebusy", {}, None), (HOLDS, None)),
    (("default", None, {"invalidate_lock": "1"}, None), (HOLDS, None)),
    (("small", "invalidate-lock-flag", {}, None), (HOLDS, None)),
    (("small", "invalidate-lock-freeze", {}, None), (VIOLATED, DEADLOCK)),
] + [
    (("shared-inode-fault", None, {"preserver.1.fault": f}, None), (VIOLATED, NO_CHANGE))
    for f in ("checks", "array-enomem", "kho-enomem", "hwpoison")
]


@pytest.mark.parametrize("mm", ["sc", "tso"])
@pytest.mark.parametrize(("case", "expected"), CASES,
                         ids=[Ask(*c).command().removeprefix("explorer check ")
                              for c, _ in CASES])
def test_the_findings_verdicts(case, expected, mm):
    scenario, mutant, settings, props = case
    o = check("guest_memfd", scenario, settings, mutant, memory_model=mm, minimize=False,
              properties=list(props) if props else None)
    verdict, prop = expected
    assert o.result.verdict == verdict, o.result.reason
    if prop is not None:
        assert o.result.failure is not None and o.result.failure.name == prop


def test_one_preserve_alone_survives_every_fault():
    """The window is per freezer: a preserver's own failure closes only its window."""
    o = check("guest_memfd", "default", {"preserver.0.fault": "any"})
    assert o.result.verdict == HOLDS


@pytest.mark.parametrize("readers,mm,srcu", [(1, "sc", "abstract"), (2, "sc", "abstract"),
                                             (2, "tso", "impl")])
def test_a_freeze_waits_for_every_reader_of_other_inodes(readers, mm, srcu):
    k, witness, executions = worst_wait(readers, mm, srcu)
    assert k == readers and executions > 0
    assert witness is not None and witness.result.verdict == VIOLATED

