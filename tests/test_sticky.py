"""A sticky invariant is proved sticky before anything runs (explorer/compile/sticky.py).

Partial-order reduction does not order the steps that write what a sticky
invariant reads, so a wrong `sticky=True` would make the default strategy
say HOLDS for a violated property; such a model is refused instead.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import sticky_models
from common import ROOT

from explorer import api, catalog, cli
from explorer.compile import sticky
from explorer.compile.program import Program
from explorer.lang.expr import Ghost, Shared, eq, ite, land, ne
from explorer.lang.family import BadInput
from explorer.lang.model import Model, ModelError, Property
from explorer.search import run
from explorer.search.budget import Budget
from explorer.search.result import HOLDS, VIOLATED


def _refused(model: Model, step: str) -> str:
    with pytest.raises(ModelError) as err:
        Program(model)
    msg = str(err.value)
    assert "\n" not in msg
    assert "property inv is declared sticky" in msg and f"step {step!r}" in msg, msg
    assert "drop sticky=True" in msg
    return msg


def test_reproducer_refused_from_the_cli(monkeypatch, capsys):
    monkeypatch.setenv("EXPLORER_CATALOG", "sticky_models")
    code = cli.main(["check", "--scenario", "reproducer", "--no-schedule"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("explorer: model error: property inv is declared sticky")
    assert "thread A, operation a, step 's1'" in lines[0]  # x = 0 makes it true again


def test_reproducer_refused_by_program():
    _refused(sticky_models.reproducer(), "s1")


def test_reproducer_is_the_soundness_bug(monkeypatch):
    """Without the check, the reductions miss the violation brute force finds."""
    monkeypatch.setattr("explorer.compile.program.check_sticky", lambda program: None)
    program = Program(sticky_models.reproducer())
    verdicts = {s: run(s, program, Budget()).verdict
                for s in ("naive", "stateful", "optimal", "dpor")}
    assert verdicts == {"naive": VIOLATED, "stateful": VIOLATED, "optimal": HOLDS, "dpor": HOLDS}
    # and --cross-check would catch it
    monkeypatch.setenv("EXPLORER_CATALOG", "sticky_models")
    o = api.check(scenario="reproducer", cross_check=True)
    assert o.cross is not None and o.cross.agree is False and o.exit_code == 2


def test_latch_with_a_second_writer_that_resets_it_is_refused():
    msg = _refused(sticky_models.latch(0), "s1")
    assert "thread B" in msg


def test_latch_with_a_second_writer_that_sets_it_is_accepted():
    Program(sticky_models.latch(7))


@pytest.mark.parametrize("form", ["ne", "eq", "reversed"])
def test_latch_forms_accepted_without_z3(form, monkeypatch):
    def no_z3(*args: object) -> None:
        raise AssertionError("z3 asked")

    monkeypatch.setattr("explorer.compile.sticky._prove", no_z3)
    b, x = Ghost("b"), Shared("x")
    latches = {"ne": ite(ne(b, 0), b, 5), "eq": ite(eq(b, 0), 5, b),
               "reversed": ite(ne(0, b), b, 5)}
    model = sticky_models.latch(latches[form])
    Program(model.with_properties(
        (Property("inv", "", land(eq(b, 0), eq(0, b)), sticky=True),)))
    # and the form matters: a latch of another variable is no latch of b
    with pytest.raises(AssertionError, match="z3 asked"):
        Program(sticky_models.latch(ite(ne(x, 0), b, 5)).with_properties(
            (Property("inv", "", eq(b, 0), sticky=True),)))


def test_monotone_non_latch_accepted_by_z3(monkeypatch):
    asked: list[int] = []

    def prove(program: Program, prop: Property, steps: list) -> None:
        asked.append(len(steps))
        real(program, prop, steps)

    real = sticky._prove
    monkeypatch.setattr(sticky, "_prove", prove)
    program = Program(sticky_models.monotone())
    assert asked == [4]  # proved by z3 for each increment, not matched as a latch
    assert {run(s, program, Budget()).verdict for s in ("naive", "optimal", "dpor")} == {
        VIOLATED}


def test_monotone_without_its_guard_refused():
    msg = _refused(sticky_models.monotone(guarded=False), "s0")
    assert "x=18446744073709551615" in msg  # the wrap-around


def _every_program():
    cat = catalog.load()
    for entry in cat.entries:
        if not any(p.sticky for p in entry.properties):
            continue
        fam = entry.family
        for sc in fam.scenarios:
            for mutant in (None, *(m.name for m in fam.mutants)):
                for srcu in fam.srcu_models:
                    for mm in api.MEMORY_MODELS:
                        yield fam.name, sc.name, mutant, srcu, mm


@pytest.mark.slow  # every shipped model again (about 40 s); each load validates its own
def test_shipped_sticky_invariants_accepted():
    """Every scenario and mutant, SRCU abstract and impl, SC/TSO/PSO (flushes included)."""
    seen: set[str] = set()
    built = 0
    for name, scenario, mutant, srcu, mm in _every_program():
        try:
            _, program = api.prepare(name, scenario, None, mutant, srcu, mm)
        except BadInput:  # a barrier mutant needs --srcu impl
            continue
        built += 1
        seen.update(p.name for p in program.invariants if p.sticky)
    assert seen == {"no-change-after-freeze", "grace-period-data"}
    assert built > 500


def test_default_check_does_not_load_z3():
    code = ("import sys; from explorer import api; o = api.check(); "
            "assert o.result.verdict == 'holds'; print('z3' in sys.modules)")
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                       check=False, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "False"
