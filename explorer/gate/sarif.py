"""`explorer ci --sarif FILE`: the gate's findings as a SARIF 2.1.0 log.

Each unexpected verdict is a result whose ruleId is the property (or
`expected-violation` for a mutant that held, `incomplete`, `check-error`).
A violation carries one codeFlow whose threadFlows are the threads of the
counterexample: each location is a step, at its kernel source line, with
the step's place in the whole run as `executionOrder`. Nothing in the log
depends on when or how fast it ran, so two runs of the same gate give the
same file (code-scanning services match results across runs by
partialFingerprints).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from typing import Any

from .. import __version__
from .result import ERROR, FAILED, INCOMPLETE, CheckResult, FlowStep

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
_LINE = re.compile(r"^(?P<file>[\w./+-]+\.[A-Za-z]+):(?P<line>\d+)")

# ruleIds of findings that are not a property's violation.
NO_VIOLATION = "expected-violation"
OUT_OF_BUDGET = "incomplete"
BAD_CHECK = "check-error"


def _rule(r: CheckResult) -> tuple[str, str]:
    if r.status == FAILED and r.verdict == "violated":
        return r.failure, r.failure_description or r.failure
    if r.status == FAILED:
        return NO_VIOLATION, "a check expected a violation (a mutant that must be caught) " \
                             "and every property held"
    if r.status == INCOMPLETE:
        return OUT_OF_BUDGET, "a check ran out of budget before it was exhaustive"
    return BAD_CHECK, "a check could not run (bad input or a model error)"


def _physical(line: str) -> dict[str, Any] | None:
    m = _LINE.match(line)
    if m is None:
        return None
    return {"artifactLocation": {"uri": m["file"]},
            "region": {"startLine": int(m["line"])}}


def _location(step: FlowStep) -> dict[str, Any]:
    loc: dict[str, Any] = {
        "message": {"text": f"step {step.order}: {step.thread} {step.operation}: "
                            f"{step.code or step.step}"},
    }
    phys = _physical(step.line)
    if phys is not None:
        loc["physicalLocation"] = phys
    return loc


def _code_flow(r: CheckResult) -> dict[str, Any]:
    threads: dict[str, list[FlowStep]] = {}
    for st in r.flow:
        threads.setdefault(st.thread, []).append(st)
    flows = [{
        "id": name,
        "message": {"text": f"thread {name}"},
        "locations": [{"location": _location(st), "executionOrder": st.order,
                       "nestingLevel": 0} for st in steps],
    } for name, steps in threads.items()]
    return {"message": {"text": f"the counterexample: {len(r.flow)} steps"},
            "threadFlows": flows}


def _result(r: CheckResult, rule_index: int) -> dict[str, Any]:
    rule, _ = _rule(r)
    s = r.spec
    doc: dict[str, Any] = {
        "ruleId": rule,
        "ruleIndex": rule_index,
        "level": "error" if r.status in (FAILED, ERROR) else "warning",
        "message": {"text": f"{s.id}: {r.summary()}: {r.reason}"},
        "partialFingerprints": {
            "explorerCheck/v1": hashlib.sha256(f"{s.suite}\0{s.id}\0{rule}".encode())
            .hexdigest()[:32],
        },
        "properties": {"check": s.id, "suite": s.suite, "model": s.model_label,
                       "scenario": s.scenario or "default", "mutant": s.mutant,
                       "memory_model": s.memory_model, "srcu": s.srcu,
                       "strategy": s.strategy, "expected": s.expect, "verdict": r.verdict},
    }
    last = next((st for st in reversed(r.flow) if _physical(st.line)), None)
    if last is not None:  # where the property broke: the last step at a source line
        loc = _physical(last.line)
        assert loc is not None
        doc["locations"] = [{"physicalLocation": loc,
                             "message": {"text": f"{r.failure} fails after this step"}}]
    if r.flow:
        doc["codeFlows"] = [_code_flow(r)]
    return doc


def render(results: Sequence[CheckResult]) -> str:
    findings = [r for r in results if r.unexpected]
    rules: dict[str, str] = {}
    for r in findings:
        rule, text = _rule(r)
        rules.setdefault(rule, text)
    order = sorted(rules)
    log = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "explorer",
                "version": __version__,
                "rules": [{"id": rid, "shortDescription": {"text": rules[rid]}}
                          for rid in order],
            }},
            "automationDetails": {"id": "explorer-ci/"},
            "columnKind": "unicodeCodePoints",
            "results": [_result(r, order.index(_rule(r)[0])) for r in findings],
        }],
    }
    return json.dumps(log, indent=2, sort_keys=False) + "\n"
