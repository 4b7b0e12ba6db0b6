"""A user's own model, given as a file or a module: the worked example of the README
(examples/spinlock.py) and every way a model file can be wrong (one line, exit 2)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from common import ROOT, cli

EXAMPLE = "examples/spinlock.py"


def test_the_example_holds_as_a_file_and_as_a_module():
    for ref in (EXAMPLE, "examples.spinlock", str(ROOT / EXAMPLE)):
        r = cli("check", ref, "--json")
        assert r.returncode == 0, r.stderr
        doc = json.loads(r.stdout)
        assert doc["verdict"] == "holds" and doc["model"] == "spinlock"
        assert set(doc["properties_checked"]) >= {"mutual-exclusion", "no-lost-update"}


@pytest.mark.parametrize(("mutant", "memory_model", "code", "prop"), [
    ("split-cmpxchg", "sc", 1, "mutual-exclusion"),
    ("plain-unlock", "sc", 0, None),
    ("plain-unlock", "tso", 0, None),
    ("plain-unlock", "pso", 1, "no-lost-update"),
])
def test_the_example_mutants(mutant, memory_model, code, prop):
    r = cli("check", EXAMPLE, "--mutant", mutant, "--memory-model", memory_model, "--json")
    assert r.returncode == code, r.stderr
    doc = json.loads(r.stdout)
    if prop is None:
        assert doc["verdict"] == "holds"
    else:
        assert doc["verdict"] == "violated" and doc["property"]["name"] == prop
        # The counterexample cites the example's own C file, step by step.
        cpus = [st for st in doc["trace"] if st["thread"].startswith("cpu")]
        assert cpus and all(st["line"].startswith("examples/spinlock.c:") for st in cpus)


def test_list_and_params_of_a_model_file():
    r = cli("list", EXAMPLE)
    assert r.returncode == 0, r.stderr
    assert "model spinlock" in r.stdout and "split-cmpxchg" in r.stdout
    r = cli("list", EXAMPLE, "--params", "--set", "cpus=3")
    assert r.returncode == 0 and "cpus" in r.stdout and "= 3" in r.stdout


def test_a_violation_of_a_model_file_replays_from_elsewhere(tmp_path: Path):
    """The schedule file says where the model came from, relative to itself, so it
    replays from any folder, and after the checkout moves."""
    work = tmp_path / "repo"
    shutil.copytree(ROOT / "examples", work / "examples")
    r = cli("check", "examples/spinlock.py", "--mutant", "split-cmpxchg",
            "--schedule-out", "cx/s.json", cwd=work)
    assert r.returncode == 1, r.stderr
    doc = json.loads((work / "cx/s.json").read_text())
    assert doc["model_from"] == "../examples/spinlock.py"
    moved = tmp_path / "moved"
    shutil.move(str(work), moved)
    r = cli("replay", str(moved / "cx/s.json"), cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    assert "VIOLATED mutual-exclusion" in r.stdout


HEADER = "from explorer.lang.family import Family, PropertySpec, Scenario\n"

BROKEN = {
    "syntax": ("def (:\n", "SyntaxError"),
    "raises": ("x = 1\nraise RuntimeError('no such thing')\n",
               "RuntimeError: no such thing (line 2)"),
    "no-family": ("X = 1\n", "defines no model family"),
    "class-not-instance": (
        HEADER + "class F(Family):\n    name = 'f'\n    scenarios = (Scenario('default', 'd'),)\n"
        "    def params(self, s):\n        return []\n    def build(self, v, m, s):\n"
        "        return None\nFAMILY = F\n", "not an instance"),
    "not-a-family": ("FAMILY = 3\n", "FAMILY is a int"),
    "bad-properties": (
        HEADER + "class F(Family):\n    name = 'f'\n    scenarios = (Scenario('default', 'd'),)\n"
        "    def params(self, s):\n        return []\n    def build(self, v, m, s):\n"
        "        return None\nFAMILY = F()\nPROPERTIES = ('mutual-exclusion',)\n",
        "PROPERTIES must be"),
    "build-returns-none": (
        HEADER + "class F(Family):\n    name = 'f'\n    scenarios = (Scenario('default', 'd'),)\n"
        "    def params(self, s):\n        return []\n    def build(self, v, m, s):\n"
        "        return None\nFAMILY = F()\n", "not an explorer.lang.model.Model"),
    "build-raises": (
        HEADER + "class F(Family):\n    name = 'f'\n    scenarios = (Scenario('default', 'd'),)\n"
        "    def params(self, s):\n        return []\n    def build(self, v, m, s):\n"
        "        return {}['x']\nFAMILY = F()\n", "building the model failed: KeyError"),
    "undeclared-variable": (
        HEADER + "from explorer.lang.builder import OpBuilder\n"
        "from explorer.lang.model import Model, Thread\n"
        "from explorer.lang import access\nfrom explorer.lang.expr import Local\n"
        "class F(Family):\n    name = 'f'\n    scenarios = (Scenario('default', 'd'),)\n"
        "    def params(self, s):\n        return []\n    def build(self, v, m, s):\n"
        "        b = OpBuilder('op')\n        r = b.local('r')\n"
        "        b.add('ld', 'x.c:1', 'r = x;', **access.load('x', r))\n"
        "        return Model('f', {}, {}, (Thread('t', (b.build(),)),))\nFAMILY = F()\n",
        "model error"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_model_file_is_one_line_naming_it(tmp_path: Path, case: str):
    source, cause = BROKEN[case]
    path = tmp_path / f"{case}.py"
    path.write_text(source)
    r = cli("check", str(path))
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert str(path) in lines[0] and cause in lines[0], lines[0]
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr


def test_missing_file_and_module(tmp_path: Path):
    r = cli("check", str(tmp_path / "nope.py"))
    assert r.returncode == 2 and "no such model file" in r.stderr
    r = cli("check", "no_such_pkg.model")
    assert r.returncode == 2 and "no_such_pkg.model: no such module" in r.stderr
    r = cli("check", "unknown_model")
    assert r.returncode == 2 and "unknown model 'unknown_model'" in r.stderr


def test_the_readme_example_suite_passes():
    r = cli("ci", "examples/spinlock.toml")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "gate PASSED: 7 checks: 7 as expected" in r.stdout


def test_the_header_names_the_file_and_no_srcu():
    r = cli("check", EXAMPLE)
    first, second = r.stdout.splitlines()[:2]
    assert first.startswith("model spinlock (examples/spinlock.py), scenario default")
    assert "SRCU" not in second and "read it against the patch" not in r.stdout


def test_list_names_srcu_models_only_for_models_with_srcu():
    r = cli("list", EXAMPLE)
    assert "memory models: sc, tso, pso" in r.stdout and "SRCU models" not in r.stdout
    assert "SRCU models: abstract, impl" in cli("list", "guest_memfd").stdout
