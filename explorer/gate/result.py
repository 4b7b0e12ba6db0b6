"""What one check of a suite got, in a form every writer (JUnit, SARIF, JSON,
markdown) reads, and that a worker process can send back (plain data)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .suite import CheckSpec

# How a check ended against its expectation.
PASSED = "passed"  # the expected verdict
FAILED = "failed"  # the other verdict: an unexpected holds or violation
INCOMPLETE = "incomplete"  # out of budget; fails the gate unless allowed
ALLOWED = "allowed"  # out of budget where the suite allows it
ERROR = "error"  # bad input or a model error: the gate fails


@dataclass(frozen=True)
class FlowStep:
    """One step of a counterexample, as SARIF's threadFlows need it."""

    order: int  # 1-based position in the whole run (SARIF executionOrder)
    thread: str
    operation: str
    step: str
    line: str  # "virt/kvm/guest_memfd.c:118", or a description for a flush
    code: str


@dataclass(frozen=True)
class CheckResult:
    spec: CheckSpec
    verdict: str  # holds | violated | incomplete | error
    status: str  # PASSED | FAILED | INCOMPLETE | ALLOWED | ERROR
    executions: int = 0
    seconds: float = 0.0
    failure: str = ""  # the property that failed (a violation)
    failure_description: str = ""
    reason: str = ""  # why incomplete, the error, or what was expected instead
    report: str = ""  # the readable report (with the counterexample on a violation)
    flow: tuple[FlowStep, ...] = ()
    artifacts: tuple[str, ...] = field(default=())  # schedule file, graph

    @property
    def ok(self) -> bool:
        return self.status in (PASSED, ALLOWED)

    @property
    def unexpected(self) -> bool:
        """A verdict the gate reports as a finding (SARIF result)."""
        return self.status in (FAILED, INCOMPLETE, ERROR)

    def summary(self) -> str:
        """One line: what was expected and what was found."""
        s = self.spec
        if self.status == PASSED:
            got = f"{self.verdict}" + (f" ({self.failure})" if self.failure else "")
            return f"ok: {got}, as expected ({self.executions:,} executions)"
        if self.status == ALLOWED:
            return f"incomplete, allowed: {self.reason}"
        if self.status == INCOMPLETE:
            return f"INCOMPLETE (expected {s.expect}): {self.reason}"
        if self.status == ERROR:
            return f"ERROR: {self.reason}"
        if self.verdict == "violated":
            return (f"UNEXPECTED VIOLATION of {self.failure}"
                    + (f" (expected {s.expect})" if s.expect == "holds" else
                       f" (expected {s.expect_property})"))
        return f"UNEXPECTED HOLDS (expected {s.expect}" + (
            f" {s.expect_property})" if s.expect_property else ")")

    def to_json(self) -> dict[str, Any]:
        s = self.spec
        return {
            "id": s.id, "suite": s.suite, "model": s.model_label, "scenario": s.scenario,
            "parameters": dict(s.settings), "mutant": s.mutant, "memory_model": s.memory_model,
            "srcu": s.srcu, "strategy": s.strategy, "expect": s.expect,
            "expect_property": s.expect_property, "allow_incomplete": s.allow_incomplete,
            "verdict": self.verdict, "status": self.status, "ok": self.ok,
            "property": self.failure or None, "executions": self.executions,
            "seconds": round(self.seconds, 3), "reason": self.reason,
            "counterexample": [asdict(f) for f in self.flow] or None,
            "artifacts": list(self.artifacts),
        }
