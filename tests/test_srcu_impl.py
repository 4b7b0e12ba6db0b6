"""Linux's SRCU algorithm (models/srcu_impl.py): its steps, its barrier mutants, its verdicts."""

from __future__ import annotations

import re
from functools import cache

import pytest
from explorer.models.srcu_impl import BARRIER_MUTANTS, CHANGES, ImplSrcu, removed_by

from explorer.api import Outcome, check
from explorer.lang.builder import OpBuilder
from explorer.lang.model import DONE, Step
from explorer.search.budget import Budget
from explorer.search.result import DEADLOCK, HOLDS, VIOLATED


@cache
def run(model: str, scenario: str, memory_model: str, mutant: str | None = None) -> Outcome:
    return check(model=model, scenario=scenario, mutant=mutant, srcu="impl",
                 memory_model=memory_model, budget=Budget())


def verdict(*args: str | None) -> str:
    o = run(*args)  # type: ignore[arg-type]
    return o.result.verdict


# -- the steps -------------------------------------------------------------------

# What the C text of each srcutree.c line (Linux 6.1.176) must mention.
KERNEL_LINES = {
    421: "srcu_lock_count", 438: "srcu_unlock_count", 463: "/* A */",
    638: "READ_ONCE(ssp->srcu_idx) & 0x1", 639: "this_cpu_inc(ssp->sda->srcu_lock_count",
    640: "/* B */", 652: "/* C */", 653: "this_cpu_inc(ssp->sda->srcu_unlock_count",
    679: "Order prior store to ->srcu_gp_seq_needed vs. GP start", 771: "mutex_unlock",
    994: "/* E */", 996: "WRITE_ONCE(ssp->srcu_idx, ssp->srcu_idx + 1)", 1005: "/* D */",
    1253: "smp_mb()", 1498: "mutex_lock(&ssp->srcu_gp_mutex)",
    1530: "idx = 1 ^ (ssp->srcu_idx & 1)", 1533: "retry later",
    1548: "idx = 1 ^ (ssp->srcu_idx & 1)", 1551: "retry later",
}


def srcu_steps(removed: frozenset[str] = frozenset(), mutex: bool = True) -> list[Step]:
    """Every step ImplSrcu emits: a lock, an unlock and a grace period."""
    d = ImplSrcu("srcu", ["r0", "r1"], removed, mutex=mutex, migrate={"r0": "r1"})
    b = OpBuilder("all")
    d.read_lock(b, "r0", "lock", "unlock", "caller.c:1", "idx = srcu_read_lock(&ss);")
    d.read_unlock(b, "r0", "unlock", "sync.begin", "caller.c:2", "srcu_read_unlock(&ss, idx);")
    d.synchronize(b, "sync.", DONE, "caller.c:3", "synchronize_srcu(&ss);")
    return b.steps


def line_of(step: Step) -> int:
    m = re.fullmatch(r"kernel/rcu/srcutree\.c:(\d+)", step.line)
    assert m, f"{step.label}: {step.line!r} is not a srcutree.c line"
    return int(m.group(1))


@pytest.mark.parametrize("removed", [frozenset(), *(removed_by(m.name) for m in BARRIER_MUTANTS)])
def test_every_step_stands_for_its_srcutree_line(removed):
    for step in srcu_steps(removed):
        n = line_of(step)
        assert n in KERNEL_LINES, f"{step.label}: line {n} not reviewed"
        assert KERNEL_LINES[n] in step.code, f"{step.label} (:{n}): {step.code!r}"


def test_each_step_makes_at_most_one_shared_access_and_the_retry_none():
    for step in srcu_steps():
        touched = set(step.reads) | set(step.writes)
        if step.label.endswith(".retry"):  # whether a rescan passes is computed from the scan
            assert step.retry and not touched
        else:
            assert len(touched) <= 1, step.label
        if step.fence:
            assert not touched or step.label.endswith("return")


def test_the_barriers_and_accesses_have_their_orders():
    by_line: dict[int, set[tuple[str, str]]] = {}
    for s in srcu_steps():
        by_line.setdefault(line_of(s), set()).add((s.order, s.fence))
    for n in (463, 640, 652, 679, 994, 1005, 1253):
        assert by_line[n] == {("plain", "mb")}, n
    assert by_line[639] == by_line[653] == {("plain", "")}  # this_cpu_inc(): a plain RMW
    assert by_line[996] == {("once", "")}
    assert by_line[771] == {("release", "")}


def test_a_migrated_unlock_counts_on_the_other_cpu():
    unlock = [s for s in srcu_steps() if s.label.startswith("unlock")]
    assert unlock and all(s.cpu == "r1" for s in unlock)
    assert {w for s in unlock for w in s.writes} == {"srcu.unlock0.r1", "srcu.unlock1.r1"}


def signature(steps: list[Step]) -> list[tuple[str, str]]:
    return [(s.line, s.code) for s in steps]


@pytest.mark.parametrize("mutant", [m.name for m in BARRIER_MUTANTS])
def test_each_mutant_changes_the_steps(mutant):
    removed = removed_by(mutant)
    assert removed and removed <= set(CHANGES)
    mutated, plain = srcu_steps(removed), srcu_steps()
    assert signature(mutated) != signature(plain)
    lines = {line_of(s) for s in mutated}
    gone = {"no-mb-in-read-lock": {640}, "no-mb-before-scan": {679}, "no-mb-in-scan": {463},
            "single-scan": {994, 996, 1005, 1548, 1551}}
    for change in removed:
        assert not gone.get(change, set()) & lines, change
    if "locks-before-unlocks" in removed:  # the scan's first counter read is a lock count
        first = next(s for s in mutated if s.label == "sync.scan1.i0.locks.r0")
        assert line_of(first) == 421
        idx = next(s for s in mutated if s.label == "sync.scan1.idx")
        assert "sync.scan1.i0.locks.r0" in str(idx.next)


# -- verdicts ----------------------------------------------------------------------


@pytest.mark.parametrize("mm", ["sc", "tso", "pso"])
@pytest.mark.parametrize("model,scenario", [("srcu", "default"), ("srcu", "migrate"),
                                            ("guest_memfd", "tiny"),
                                            ("guest_memfd", "refreeze"),
                                            ("guest_memfd", "two-preservers")])
def test_unmutated_impl_holds(model, scenario, mm):
    o = run(model, scenario, mm)
    assert o.result.verdict == HOLDS, (o.result.failure, o.result.reason)
    assert o.setup.srcu == "impl" and o.setup.memory_model == mm


@pytest.mark.parametrize("model,scenario", [("srcu", "default"), ("guest_memfd", "tiny")])
def test_no_mb_in_read_lock_breaks_under_tso_only(model, scenario):
    assert verdict(model, scenario, "sc", "no-mb-in-read-lock") == HOLDS
    o = run(model, scenario, "tso", "no-mb-in-read-lock")
    assert o.result.verdict == VIOLATED
    assert o.trace is not None
    # the reader's lock increment was still in its store buffer when the scan read it
    assert any("enters" in r.code and "lock" in r.label for r in o.trace)


def test_scan_and_read_side_mutants_break_under_sc():
    for mutant in ("single-scan", "locks-before-unlocks"):
        assert verdict("srcu", "default", "sc", mutant) == VIOLATED, mutant


def test_updater_barriers_mask_each_other():
    """Either smp_mb() orders the FROZEN store before the first scan's lock sum;
    without both, a reader that fetched srcu_idx in the first grace period is
    missed in the second (TSO, PSO)."""
    for alone in ("no-mb-before-scan", "no-mb-in-scan"):
        assert verdict("guest_memfd", "refreeze", "tso", alone) == HOLDS, alone
    both = "no-mb-before-scan+no-mb-in-scan"
    assert verdict("guest_memfd", "refreeze", "sc", both) == HOLDS
    for mm in ("tso", "pso"):
        assert verdict("guest_memfd", "refreeze", mm, both) == VIOLATED, mm
    o = run("srcu", "publish-repeat", "tso", both)
    assert o.result.verdict == VIOLATED
    assert o.result.failure is not None and o.result.failure.name == "grace-period-data"
    # srcu_gp_mutex's locked RMW drains the store buffer on x86-TSO, not on PSO
    assert verdict("guest_memfd", "two-preservers", "tso", both) == HOLDS
    assert verdict("guest_memfd", "two-preservers", "pso", both) == VIOLATED


def test_self_deadlock_under_impl():
    o = run("srcu", "self-deadlock", "tso")
    assert o.result.verdict == VIOLATED
    assert o.result.failure is not None and o.result.failure.name == DEADLOCK


def test_nested_sections_keep_their_own_idx():
    o = run("srcu", "default", "sc")
    reader0 = next(t for t in o.program.model.threads if t.name == "reader0")
    op = reader0.ops[0]
    assert {"idx0", "idx1"} <= set(op.locals)


@pytest.mark.parametrize("model", ["srcu", "guest_memfd"])
def test_barrier_mutant_needs_impl(run_cli, model):
    p = run_cli("check", model, "--srcu", "abstract", "--mutant", "no-mb-in-read-lock")
    assert p.returncode == 2
    assert p.stderr.count("\n") == 1 and "--srcu impl" in p.stderr
