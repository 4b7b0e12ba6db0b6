"""specs/ci.toml, the project's own gate, says what reports/verdicts.json says: every
cell of the verdict matrix is a check with the same expected verdict (and, for a
violation, the same scenario and property); `make test-long` also runs the gate."""

from __future__ import annotations

import json

import pytest
from common import ROOT, cli

from explorer.gate.suite import load
from explorer.tools.verdicts import PLAN

VERDICTS = json.loads((ROOT / "reports/verdicts.json").read_text())
SUITE = load(ROOT / "specs/ci.toml")


def _key(model: str, scenario: str | None, settings: dict, mutant: str | None, srcu: str,
         mm: str) -> tuple:
    return (model, scenario or "default", tuple(sorted(settings.items())), mutant, srcu, mm)


CHECKS = {
    _key(c.model_label, c.scenario, dict(c.settings), c.mutant, c.srcu, c.memory_model): c
    for c in SUITE.checks
}


@pytest.mark.parametrize("cell", VERDICTS["cells"],
                         ids=lambda c: f"{c['model']}-{c['mutant']}-{c['srcu']}-"
                                       f"{c['memory_model']}")
def test_every_cell_of_the_verdict_matrix_is_a_check(cell: dict) -> None:
    if cell["verdict"] == "n/a":
        return
    mutant = None if cell["mutant"] == "(none)" else cell["mutant"]
    plan = {label: (scenario, settings) for scenario, settings, label in PLAN[cell["model"]]}
    assert cell["verdict"] in ("holds", "violated")
    labels = cell["scenarios_run"] if cell["verdict"] == "holds" else [cell["scenario"]]
    for label in labels:
        scenario, settings = plan[label]
        key = _key(cell["model"], scenario, settings, mutant, cell["srcu"],
                   cell["memory_model"])
        assert key in CHECKS, f"specs/ci.toml has no check {key}"
        check = CHECKS[key]
        assert check.expect == cell["verdict"]
        if cell["verdict"] == "violated":
            assert check.expect_property == cell["property"]


def test_the_gate_covers_the_matrix_and_nothing_else_of_those_models() -> None:
    cells = {(c["model"], None if c["mutant"] == "(none)" else c["mutant"], c["srcu"],
              c["memory_model"]) for c in VERDICTS["cells"] if c["verdict"] != "n/a"}
    for c in SUITE.checks:
        if c.model_label in PLAN:
            assert (c.model_label, c.mutant, c.srcu, c.memory_model) in cells, c.id


@pytest.mark.slow
def test_the_projects_gate_passes(tmp_path) -> None:
    r = cli("ci", "specs/ci.toml", "--jobs", "2", "--quiet", "--junit",
            str(tmp_path / "r.xml"), "--sarif", str(tmp_path / "r.sarif"), timeout=1800)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr
    assert "gate PASSED" in r.stdout
