"""z3 and the explorer agree: `prove` and optimal DPOR give the same verdict on every
protocol mutant and the unmutated model (SC, abstract SRCU, small scenarios).

A violation z3 reports has already been replayed in the explorer (prove
fails loudly otherwise); here both engines run independently and must reach
the same verdict on the same scenario.
"""

from __future__ import annotations

import pytest
from common import MUTANTS

from explorer.api import check, prove
from explorer.search.result import VIOLATED

SLOW = pytest.mark.slow  # z3 takes 5 to 40 s on these: make test-long

CASES = [("guest_memfd", "tiny", m) for m in (None, *MUTANTS)] + [
    pytest.param("guest_memfd", "small", m, marks=SLOW, id=f"guest_memfd-small-{m or 'none'}")
    for m in (None, "no-synchronize", "fallocate-unchecked")
] + [("srcu", "default", None), ("srcu", "self-deadlock", None)]

# The same engines through the weak-memory lowering and Linux's SRCU algorithm
# (retry steps never taken; daemon flushers bounded by their buffers).
WEAK = [
    ("guest_memfd", "tiny", None, "impl", "sc"),
    ("guest_memfd", "tiny", None, "abstract", "tso"),
    pytest.param("guest_memfd", "tiny", "no-mb-in-read-lock", "impl", "sc", marks=SLOW),
    pytest.param("guest_memfd", "tiny", "no-mb-in-read-lock", "impl", "tso", marks=SLOW),
    pytest.param("guest_memfd", "tiny", "single-scan", "impl", "pso", marks=SLOW),
    pytest.param("srcu", "self-deadlock", None, "impl", "sc", marks=SLOW),
]


@pytest.mark.parametrize(("model", "scenario", "mutant"), CASES,
                         ids=lambda c: c if isinstance(c, str) else str(c or "none"))
def test_prove_and_dpor_agree(model: str, scenario: str, mutant: str | None) -> None:
    _agree(model, scenario, mutant, "abstract", "sc")


@pytest.mark.parametrize(("model", "scenario", "mutant", "srcu", "mm"), WEAK)
def test_prove_and_dpor_agree_weak(
    model: str, scenario: str, mutant: str | None, srcu: str, mm: str
) -> None:
    _agree(model, scenario, mutant, srcu, mm)


def _agree(model: str, scenario: str, mutant: str | None, srcu: str, mm: str) -> None:
    dpor = check(model, scenario, mutant=mutant, minimize=False, srcu=srcu,
                 memory_model=mm).result
    proof = prove(model, scenario, mutant=mutant, srcu=srcu, memory_model=mm)
    z3_result = proof.outcome.result
    assert proof.complete
    assert z3_result.verdict == dpor.verdict, (
        f"z3 {z3_result.verdict} {z3_result.reason}; dpor {dpor.verdict}")
    if dpor.verdict == VIOLATED:
        assert z3_result.failure is not None and z3_result.schedule
