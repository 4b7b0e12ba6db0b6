"""`explorer ci --json FILE`: every check and the summary, one object (schema 1)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from .. import __version__
from .result import CheckResult
from .suite import Suite


def render(suites: Sequence[Suite], results: Sequence[CheckResult], seconds: float) -> str:
    from .writers import counts

    doc = {
        "schema": 1,
        "tool": f"explorer {__version__}",
        "passed": all(r.ok for r in results),
        "suites": [{"name": s.name, "path": s.path, "checks": len(s.checks)} for s in suites],
        "counts": counts(results),
        "seconds": round(seconds, 3),
        "checks": [r.to_json() for r in results],
    }
    return json.dumps(doc, indent=2) + "\n"
