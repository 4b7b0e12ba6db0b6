"""`explorer ci --junit FILE`: one testsuite per suite, one testcase per check.

An unexpected verdict is a <failure> whose text is the readable report with
its counterexample; a check out of budget is a <failure> too (or <skipped>
where its suite allows it); a bad check is an <error>. Written with
junitparser, which CI systems' JUnit readers agree with, not hand-built XML.
"""

from __future__ import annotations

from collections.abc import Sequence

from junitparser import Error, Failure, JUnitXml, Skipped, TestCase, TestSuite

from .result import ALLOWED, ERROR, FAILED, INCOMPLETE, CheckResult
from .suite import Suite


def render(suites: Sequence[Suite], results: Sequence[CheckResult]) -> str:
    xml = JUnitXml("explorer ci")
    by_suite: dict[str, list[CheckResult]] = {}
    for r in results:
        by_suite.setdefault(r.spec.suite, []).append(r)
    for s in suites:
        ts = TestSuite(s.name)
        for r in by_suite.get(s.name, []):
            case = TestCase(r.spec.id, classname=s.name, time=round(r.seconds, 3))
            if r.status in (FAILED, INCOMPLETE):
                f = Failure(r.summary(), "unexpected verdict" if r.status == FAILED
                            else "incomplete")
                f.text = f"{r.reason}\n\n{r.report}" if r.report else r.reason
                case.result = [f]
            elif r.status == ERROR:
                e = Error(r.reason, "error")
                e.text = r.reason
                case.result = [e]
            elif r.status == ALLOWED:
                case.result = [Skipped(f"incomplete, allowed by the suite: {r.reason}")]
            else:
                case.system_out = r.summary()
            ts.add_testcase(case)
        ts.update_statistics()
        xml.add_testsuite(ts)
    xml.update_statistics()
    text = xml.tostring()
    return (text.decode("utf-8") if isinstance(text, bytes) else str(text)) + "\n"
