"""The text report: a swimlane per thread within 100 columns, then the detailed steps."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from common import MUTANTS

from explorer import catalog as catalog_mod
from explorer.api import check
from explorer.catalog import Catalog, Entry
from explorer.evidence.report import WIDTH, columns, swimlane, text
from explorer.lang.builder import OpBuilder
from explorer.lang.expr import Ghost, Shared, eq, le, lift
from explorer.lang.family import Family, Mutant, Param, PropertySpec, Scenario
from explorer.lang.model import Model, Thread, VarDecl


@pytest.mark.parametrize("mutant", MUTANTS)
def test_report_fits_in_100_columns(mutant):
    out = text(check(mutant=mutant))
    assert max(len(line) for line in out.splitlines()) <= WIDTH


@pytest.mark.parametrize("mutant", MUTANTS)
def test_swimlane_puts_each_step_in_its_threads_column(mutant):
    o = check(mutant=mutant)
    _assert_columns(o)


def _assert_columns(o) -> None:
    names, where = columns(o.program)
    lines = swimlane(o.trace, o.program)
    header = lines[0]
    starts = [header.index(names[where[t]][:14]) for t in range(len(o.program.threads))]
    numbered = [line for line in lines[2:] if line[:5].strip().endswith(".")]
    assert len(numbered) == len(o.trace)
    for line, rec in zip(numbered, o.trace, strict=True):
        column = len(line) - len(line[5:].lstrip()) if line[5:].strip() else None
        assert column == starts[rec.thread], (line, rec.thread_name)
        if o.program.threads[rec.thread].daemon:  # a flush: under the CPU's own thread
            assert o.program.model.threads[rec.thread].home == rec.thread_name.split(".")[1]
        shown = line.strip().split(maxsplit=1)[1].lstrip("+")
        assert rec.label.startswith(shown)  # a long label continues on the next line


def test_weak_memory_report_fits_and_flushes_sit_with_their_cpu():
    o = check(mutant="no-mb-in-read-lock", srcu="impl", memory_model="tso")
    out = text(o)
    assert max(len(line) for line in out.splitlines()) <= WIDTH
    assert any(o.program.threads[r.thread].daemon for r in o.trace)  # a flush was needed
    _assert_columns(o)


# -- wording that depends on the family --------------------------------------------


def test_guest_memfd_is_read_against_the_patch_and_names_its_srcu():
    out = text(check(mutant="no-synchronize"))
    assert "read it against the patch" in " ".join(out.split())
    assert "SRCU abstract" in out.splitlines()[2]


def test_litmus_report_names_no_srcu_and_no_patch():
    out = text(check(model="litmus", scenario="SB", memory_model="tso"))
    assert "VIOLATED" in out
    assert "SRCU" not in out and "patch" not in out


LINE = "spin.c"


def _spin_op(thread: str, locked: bool) -> Any:
    b = OpBuilder("critical", "")
    lock, inside = Shared("lock"), Ghost("in_cs")
    b.add("spin_lock", f"{LINE}:10", "spin_lock(&l);", reads=["lock"], writes=["lock"],
          guard=eq(lock, 0) if locked else lift(1), update={lock: 1}, atomic=True,
          next="enter")
    b.add("enter", f"{LINE}:11", "/* critical section */", reads=["in_cs"], writes=["in_cs"],
          update={inside: inside + 1}, next="leave")
    b.add("leave", f"{LINE}:12", "/* end of critical section */", reads=["in_cs"],
          writes=["in_cs"], update={inside: inside - 1}, next="spin_unlock")
    b.add("spin_unlock", f"{LINE}:13", "spin_unlock(&l);", writes=["lock"], update={lock: 0})
    return b.build()


class Spinlock(Family):
    """A user's model with no SRCU and no patch: a spinlock, and a mutant without it."""

    name = "spinlock"
    description = "threads taking one spinlock"
    scenarios = (Scenario("default", "2 threads"),)
    mutants = (Mutant("no-lock", "spin_lock() does not wait"),)

    def __init__(self, threads: tuple[str, ...] = ("t0", "t1"), **attrs: Any) -> None:
        self.thread_names = threads
        for k, v in attrs.items():
            setattr(self, k, v)

    def params(self, settings: Mapping[str, str]) -> list[Param]:
        return []

    def build(self, values: Mapping[str, Any], mutant: str | None, srcu: str) -> Model:
        threads = tuple(Thread(t, (_spin_op(t, mutant != "no-lock"),))
                        for t in self.thread_names)
        return Model("spinlock", {"lock": VarDecl()},
                     {"in_cs": VarDecl(doc="threads in the critical section")}, threads)


def _with(monkeypatch, family: Family, most: int) -> None:
    prop = PropertySpec("mutual-exclusion", f"at most {most} in the critical section",
                        "invariant", lambda values: le(Ghost("in_cs"), most))
    cat = Catalog((Entry(family, (prop,)),), family.name)
    monkeypatch.setattr(catalog_mod, "load", lambda module=None: cat)


def test_a_model_without_srcu_or_patch_says_neither(monkeypatch):
    _with(monkeypatch, Spinlock(), 1)
    assert check(model="spinlock").result.verdict == "holds"
    o = check(model="spinlock", mutant="no-lock")
    out = text(o)
    assert "VIOLATED mutual-exclusion" in out
    assert "SRCU" not in out and "patch" not in out and "read it against" not in out


def test_a_family_names_what_it_is_read_against_and_its_srcu(monkeypatch):
    _with(monkeypatch, Spinlock(source="spin.c of the series", uses_srcu=True), 1)
    out = text(check(model="spinlock", mutant="no-lock"))
    assert "read it against spin.c of the series" in " ".join(out.split())
    assert "SRCU abstract" in out


def test_family_has_srcu_defaults_to_offering_more_than_the_abstract_model():
    assert not Spinlock().has_srcu()
    assert Spinlock(srcu_models=("abstract", "impl")).has_srcu()
    assert not Spinlock(srcu_models=("abstract", "impl"), uses_srcu=False).has_srcu()


def test_the_header_describes_the_parameters_checked_not_the_scenario_s_own():
    """--set changing a parameter is named in the header (symbolic ones as such); one
    set to the scenario's own value, or none, leaves the description alone."""
    from explorer import api

    own, _ = api.prepare(scenario="tiny")
    assert "changed by --set" not in own.scenario_description
    same, _ = api.prepare(scenario="tiny", settings={"get_folio": str(own.values["get_folio"])})
    assert same.scenario_description == own.scenario_description
    more, _ = api.prepare(scenario="tiny", settings={"get_folio": "3"})
    assert more.scenario_description.startswith(own.scenario_description)
    assert more.scenario_description.endswith("changed by --set: get_folio=3")
    sym, _ = api.prepare(scenario="small", settings={"fallocate.0.len": "?"})
    assert "fallocate.0.len=? (symbolic)" in sym.scenario_description
