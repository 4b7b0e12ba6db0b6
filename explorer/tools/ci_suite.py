"""specs/ci.toml from reports/verdicts.json: the verdict matrix as the project's gate.

Every cell becomes a check: a cell that holds is a check per scenario the
matrix tried, expecting holds; a violated cell is a check on the scenario
where the matrix found it, expecting that property to fail. Then the worked
example of the README. `make verdicts` regenerates both files, and
tests/test_ci_suite.py checks that they agree.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .verdicts import PLAN

HEAD = '''# The project's own gate: `explorer ci specs/ci.toml` (make gate). Generated from
# reports/verdicts.json by `python -m explorer.tools.ci_suite` (make verdicts).
#
# Every cell of reports/verdicts.md as a check: the unmutated models hold on every
# scenario the matrix tries, under every memory model and both SRCU models, and each
# mutant is violated, on the scenario and with the property the matrix found, where
# the matrix says it is (and holds where it says so: a barrier the model shows is
# not needed stays not needed). tests/test_ci_suite.py checks that this file and
# reports/verdicts.json say the same. Data only: nothing here is executed.

[suite]
name = "explorer"
description = "guest_memfd freeze and SRCU: the verdict matrix, and the worked example"

[defaults]
strategy = "optimal"
timeout = 300          # seconds per check; the slowest takes a few
'''

EXAMPLE = '''# -- the worked example of the README (examples/spinlock.py): a model from a file

[[check]]
model = "../examples/spinlock.py"
scenario = ["default", "three-cpus", "twice"]
memory_model = ["sc", "tso", "pso"]
expect = "holds"

[[check]]
model = "../examples/spinlock.py"
mutant = "split-cmpxchg"
memory_model = ["sc", "tso", "pso"]
expect = "violated"
property = "mutual-exclusion"

[[check]]
model = "../examples/spinlock.py"
mutant = "plain-unlock"
memory_model = ["sc", "tso"]
expect = "holds"

[[check]]
model = "../examples/spinlock.py"
mutant = "plain-unlock"
memory_model = "pso"
expect = "violated"
property = "no-lost-update"
'''


def _q(x: str) -> str:
    return json.dumps(x)


def _list(xs: Sequence[str]) -> str:
    return _q(xs[0]) if len(xs) == 1 else "[" + ", ".join(_q(x) for x in xs) + "]"


def _check(model: str, scenario: str | Sequence[str], settings: dict[str, str],
           mutant: str | None, srcu: str, mms: Sequence[str], expect: str,
           prop: str = "", note: str = "") -> list[str]:
    out = ["[[check]]" + (f"  # {note}" if note else ""), f"model = {_q(model)}",
           f"scenario = {_q(scenario) if isinstance(scenario, str) else _list(scenario)}"]
    if settings:
        out.append("set = { " + ", ".join(f"{k} = {_q(v)}" for k, v in settings.items()) + " }")
    if mutant:
        out.append(f"mutant = {_q(mutant)}")
    out += [f"srcu = {_q(srcu)}", f"memory_model = {_list(mms)}", f"expect = {_q(expect)}"]
    if prop:
        out.append(f"property = {_q(prop)}")
    return [*out, ""]


def render(doc: dict[str, Any]) -> str:
    lines = [HEAD]
    for model in PLAN:
        cells = [c for c in doc["cells"] if c["model"] == model]
        plan = {label: (scenario, settings) for scenario, settings, label in PLAN[model]}
        for mutant in dict.fromkeys(c["mutant"] for c in cells):
            mine = [c for c in cells if c["mutant"] == mutant and c["verdict"] != "n/a"]
            if not mine:
                continue
            m = None if mutant == "(none)" else mutant
            lines.append(f"# -- {model}: {m or 'the model as posted'}\n")
            holds: dict[str, list[str]] = defaultdict(list)
            violated: dict[tuple[str, str, str], list[str]] = defaultdict(list)
            for c in mine:
                if c["verdict"] == "holds":
                    holds[c["srcu"]].append(c["memory_model"])
                elif c["verdict"] == "violated":
                    violated[(c["srcu"], c["scenario"], c["property"])].append(
                        c["memory_model"])
                else:  # an incomplete or failed cell is not a claim the gate can make
                    raise SystemExit(f"{model} {mutant} {c['srcu']} {c['memory_model']}: "
                                     f"{c['verdict']} ({c['reason']}); rerun make verdicts")
            for srcu, mms in holds.items():
                plain = [label for label, (_, st) in plan.items() if not st]
                lines += _check(model, [plan[x][0] for x in plain], {}, m, srcu, mms, "holds")
                for label, (scenario, st) in plan.items():
                    if st:
                        lines += _check(model, scenario, st, m, srcu, mms, "holds", note=label)
            for (srcu, label, prop), mms in violated.items():
                scenario, st = plan[label]
                lines += _check(model, scenario, st, m, srcu, mms, "violated", prop)
    lines.append(EXAMPLE)
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m explorer.tools.ci_suite", description=__doc__)
    ap.add_argument("--verdicts", default="reports/verdicts.json")
    ap.add_argument("--out", default="specs/ci.toml")
    args = ap.parse_args(argv)
    doc = json.loads(Path(args.verdicts).read_text())
    Path(args.out).write_text(render(doc))
    print(f"wrote {args.out} from {args.verdicts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
