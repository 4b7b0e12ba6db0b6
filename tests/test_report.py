"""The text report: a swimlane per thread within 100 columns, then the detailed steps."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

import pytest
from common import MUTANTS

from explorer import catalog as catalog_mod
from explorer.api import Outcome, check
from explorer.catalog import Catalog, Entry
from explorer.compile.lowering import bookkeeping
from explorer.evidence.moments import moments
from explorer.evidence.report import (
    BROKE_MARK,
    GUTTER,
    WIDTH,
    WINDOW_MARK,
    _short_line,
    columns,
    swimlane,
    text,
    trace_lines,
    why_lines,
)
from explorer.lang.builder import OpBuilder
from explorer.lang.expr import Ghost, Shared, Var, eq, evaluate, le, lift, variables
from explorer.lang.family import Family, Mutant, Param, PropertySpec, Scenario
from explorer.lang.model import Model, Thread, VarDecl

WEAK = [("no-mb-in-read-lock", "impl", "tso"), ("check-before-lock", "abstract", "tso"),
        ("unlock-before-alloc", "abstract", "pso")]


@pytest.mark.parametrize("mutant", MUTANTS)
def test_report_fits_in_100_columns(mutant):
    out = text(check(mutant=mutant))
    assert max(len(line) for line in out.splitlines()) <= WIDTH


@pytest.mark.parametrize("mutant", MUTANTS)
def test_swimlane_puts_each_step_in_its_threads_column(mutant):
    o = check(mutant=mutant)
    _assert_columns(o)


def _numbered(lines: list[str]) -> list[int]:
    return [k for k, line in enumerate(lines) if line[:GUTTER].strip().endswith(".")]


def _cells(lines: list[str], n: int) -> list[list[str]]:
    """The swimlane's lines of each of the `n` steps (the marks' legend left out)."""
    starts = _numbered(lines)
    assert len(starts) == n
    end = next((k for k in range(starts[-1] + 1, len(lines))
                if lines[k][:GUTTER + 1].strip()), len(lines))
    bounds = [*starts, end]
    return [lines[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


def _assert_columns(o) -> None:
    names, where = columns(o.program, o.trace)
    lines = swimlane(o.trace, o.program)
    header = lines[0]
    assert header.split() == names
    starts = {t: header.index(names[where[t]]) for t in {rec.thread for rec in o.trace}}
    numbered = [lines[k] for k in _numbered(lines)]
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


@pytest.mark.parametrize("case", range(len(MUTANTS) + len(WEAK)))
def test_swimlane_never_splits_a_name(case):
    """A cell's line continues on the next (indented by one) only at a space or after
    a separator, never between two characters of a name; nothing is lost."""
    o = _nth_outcome(case)
    lines = swimlane(o.trace, o.program)
    for rec, cell in zip(o.trace, _cells(lines, len(o.trace)), strict=True):
        start = len(cell[0]) - len(cell[0][GUTTER:].lstrip())
        assert all(line[:start].strip() == "" for line in cell[1:]), cell
        items: list[list[str]] = []
        for line in cell:
            if line[start:start + 1] == " ":
                items[-1].append(line[start:].strip())
            else:
                items.append([line[start:].strip()])
        whole = [("+" if rec.fused else "") + rec.label, _short_line(rec.line)]
        whole += [f"chose {rec.chosen}"] if rec.chosen else []
        whole += [f"r {k}={v}" for k, v in rec.reads if not bookkeeping(k)]
        whole += [f"w {k}={v}" for k, v in rec.writes if not bookkeeping(k)]
        assert [_rebuilt(parts, whole) for parts in items] == whole


def _rebuilt(parts: list[str], whole: list[str]) -> str:
    """The text a cell's item was folded from: each break at a space (gone) or between
    two characters that are not both those of a name."""
    built = parts[0]
    for part in parts[1:]:
        if any(w.startswith(f"{built} {part}") for w in whole):
            built += " " + part
            continue
        assert any(w.startswith(built + part) for w in whole), (built, part)
        assert not (re.match(r"\w", built[-1]) and re.match(r"\w", part[0])), (built, part)
        built += part
    return built


@functools.cache
def _nth_outcome(case: int) -> Outcome:
    if case < len(MUTANTS):
        return check(mutant=MUTANTS[case])
    m, srcu, mm = WEAK[case - len(MUTANTS)]
    return check(mutant=m, srcu=srcu, memory_model=mm)


@pytest.mark.parametrize("case", range(len(MUTANTS) + len(WEAK)))
def test_swimlane_has_a_column_only_for_threads_that_ran(case):
    o = _nth_outcome(case)
    header = swimlane(o.trace, o.program)[0].split()
    ran = {rec.thread for rec in o.trace}
    owners = {rec.thread_name for rec in o.trace if not o.program.threads[rec.thread].daemon}
    assert set(header) == owners
    idle = [t.name for i, t in enumerate(o.program.threads) if i not in ran and not t.daemon]
    assert idle  # the example has threads that never ran (the header line names them)
    assert not set(idle) & set(header)
    out = text(o).splitlines()
    k = next(i for i, line in enumerate(out) if line.startswith("threads: "))
    para = [out[k]] + [x for x in out[k + 1:k + 4] if re.match(r"  \S", x)]
    said = " ".join(x.strip() for x in para).split("never run):")[1].split(";")[0]
    assert set(idle) <= {x.strip() for x in said.split(",")}


@pytest.mark.parametrize("m, srcu, mm", WEAK)
def test_weak_memory_trace_hides_the_store_buffers_bookkeeping(m, srcu, mm):
    """The lowering's sb.* variables are neither in the swimlane nor in the step lines;
    the buffered store, its flush and the load are."""
    o = check(mutant=m, srcu=srcu, memory_model=mm)
    internal = {k for rec in o.trace for k, _ in rec.reads + rec.writes if bookkeeping(k)}
    assert internal  # the records hold them (the graph and JSON keep them)
    shown = "\n".join(swimlane(o.trace, o.program) + trace_lines(o.trace, o.program))
    assert not re.search(r"\bsb\.", shown)
    flushes = [i for i, rec in enumerate(o.trace) if o.program.threads[rec.thread].daemon]
    assert flushes
    for i in flushes:
        loc, value = o.trace[i].writes[0]
        assert f"w {loc}={value}" in shown
    assert any("(buffered on" in v for rec in o.trace for _, v in rec.writes)
    assert "(buffered on" in shown


def _marks_are_right(o) -> tuple[int, int | None]:
    """The breaking step is the last event's own step; the window step last wrote a
    ghost the breaking step read as true that the property does not read."""
    marks = moments(o.program, o.trace, o.result.failure.name, o.final_state)
    lead = max(i for i, rec in enumerate(o.trace, 1) if not rec.fused)
    assert marks.broke is not None and marks.broke.step == lead
    prop = next(p for p in o.program.invariants if p.name == o.result.failure.name)
    own = {v.name for v in variables(prop.expr)}
    if marks.window is None:
        return lead, None
    w = marks.window.step
    read = dict(o.trace[lead - 1].reads)
    assert marks.window.values
    for name, value in marks.window.values:
        assert name in o.program.model.ghosts and name not in own
        assert read[name] == value and value not in ("0", "false")
        assert dict(o.trace[w - 1].writes)[name] == value
        assert all(name not in dict(rec.writes) for rec in o.trace[w:lead - 1])
    return lead, w


@pytest.mark.parametrize("case", range(len(MUTANTS) + len(WEAK)))
def test_swimlane_and_steps_mark_the_window_and_the_breaking_step(case):
    o = _nth_outcome(case)
    lead, window = _marks_are_right(o)
    assert window is not None and window < lead  # guest_memfd: freeze() returned
    marks = moments(o.program, o.trace, o.result.failure.name, o.final_state)
    lines = swimlane(o.trace, o.program, marks)
    cells = _cells(lines, len(o.trace))
    for i, cell in enumerate(cells, 1):
        body = "\n".join(cell)
        assert (f"{WINDOW_MARK} window opens" in body) == (i == window), i
        assert (f"{BROKE_MARK} makes it false" in body) == (i == lead), i
    legend = "\n".join(lines[len(lines) - 4:])
    w_thread, b_thread = o.trace[window - 1].thread_name, o.trace[lead - 1].thread_name
    assert f"{WINDOW_MARK} step {window} ({w_thread}) opens the window" in legend
    assert f"{BROKE_MARK} step {lead} ({b_thread}) makes {o.result.failure.name} false" in legend
    steps = trace_lines(o.trace, o.program, marks)
    heads = [k for k, line in enumerate(steps) if re.match(r"\s*\d+\.", line)]
    for i, k in enumerate(heads, 1):
        end = heads[i] if i < len(heads) else len(steps)
        body = "\n".join(steps[k:end])
        assert (f"{WINDOW_MARK} {o.result.failure.name} applies from here" in body) == (
            i == window)
        assert (f"{BROKE_MARK} this step makes" in body) == (i == lead)


def test_srcu_window_is_where_the_updater_noted_the_running_body():
    o = check(model="srcu", mutant="single-scan", srcu="impl")
    lead, window = _marks_are_right(o)
    assert window is not None
    assert o.trace[window - 1].thread_name == o.trace[lead - 1].thread_name  # the updater


@pytest.mark.parametrize("case", range(len(MUTANTS) + len(WEAK)))
def test_why_names_the_steps_by_thread_and_lists_only_what_makes_it_false(case):
    o = _nth_outcome(case)
    lead, window = _marks_are_right(o)
    why = "\n".join(why_lines(o)).splitlines()
    rec = o.trace[lead - 1]
    first = " ".join(line.strip() for line in why[:4])
    assert first.startswith(f"Why: step {lead} ({rec.thread_name}: {rec.label}, {rec.line}) "
                            "made it false"), first
    assert window is not None
    w = o.trace[window - 1]
    assert f"step {window} ({w.thread_name}: {w.label}, {w.line}) opened" in first
    prop = next(p for p in o.program.invariants if p.name == o.result.failure.name)
    listed = [x.strip().split("=", 1)[0] for x in why_lines(o)[1:] if re.match(r"  \S+=", x)]
    assert listed
    everything = {v.name for v in variables(prop.expr)}
    assert set(listed) < everything  # the conjuncts that still hold are left out
    state = o.final_state
    for name in listed:  # each listed one is in a conjunct that is false
        var: Var = Ghost(name) if name in o.program.model.ghosts else Shared(name)
        assert state[o.program.slot[var]] != 0, name


def test_why_of_a_final_property_lists_what_makes_it_false():
    o = check(model="litmus", scenario="SB", memory_model="tso")
    why = "\n".join(why_lines(o)).splitlines()
    prop = next(p for p in o.program.finals if p.name == o.result.failure.name)
    listed = {x.strip().split("=", 1)[0] for x in why[1:] if re.match(r"  \S+=", x)}
    assert listed and listed <= {v.name for v in variables(prop.expr)}
    lookup = {v: int(o.final_state[o.program.slot[v]]) for v in variables(prop.expr)}
    assert not evaluate(prop.expr, lookup)


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
    assert WINDOW_MARK not in out  # no ghost opens a window here
    lead = max(i for i, rec in enumerate(o.trace, 1) if not rec.fused)
    assert f"Why: step {lead} ({o.trace[lead - 1].thread_name}: enter, {LINE}:11)" in out


def test_a_family_names_what_it_is_read_against_and_its_srcu(monkeypatch):
    _with(monkeypatch, Spinlock(source="spin.c of the series", uses_srcu=True), 1)
    out = text(check(model="spinlock", mutant="no-lock"))
    assert "read it against spin.c of the series" in " ".join(out.split())
    assert "SRCU abstract" in out


def test_family_has_srcu_defaults_to_offering_more_than_the_abstract_model():
    assert not Spinlock().has_srcu()
    assert Spinlock(srcu_models=("abstract", "impl")).has_srcu()
    assert not Spinlock(srcu_models=("abstract", "impl"), uses_srcu=False).has_srcu()


def test_names_too_long_for_any_column_are_abbreviated_with_a_legend(monkeypatch):
    """Four threads with long names all run: their columns cannot hold the names, so
    they are abbreviated the same way everywhere and explained under the swimlane."""
    names = tuple(f"cpu_hotplug_callback_worker_thread_{k}" for k in range(4))
    _with(monkeypatch, Spinlock(names), 3)
    o = check(model="spinlock", mutant="no-lock")
    lines = swimlane(o.trace, o.program)
    assert max(len(line) for line in lines) <= WIDTH
    assert {rec.thread_name for rec in o.trace} == set(names)
    header = lines[0].split()
    assert len(header) == 4 and not set(header) & set(names)
    legend = lines[lines.index("     abbreviated:") + 1:]
    said = dict(x.strip().split(" = ") for x in legend)
    assert sorted(said) == sorted(header) and sorted(said.values()) == sorted(names)
    for short in header:  # the same abbreviation in each column's steps
        cells = [c for rec, c in zip(o.trace, _cells(lines[:-len(legend) - 1], len(o.trace)),
                                     strict=True) if rec.thread_name == said[short]]
        assert cells and all(c[0].index(c[0][GUTTER:].strip()) == lines[0].index(short)
                             for c in cells)


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
