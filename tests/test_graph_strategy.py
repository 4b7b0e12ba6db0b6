"""The graph strategy (explorer/search/graph.py) against the census of
interleavings (explorer/search/oracle.py), on SC and on the store-buffer form of
TSO and PSO (explorer/compile/lowering.py).

On every generator shape it must reach the same final states, deadlocks and
violated properties, and explore exactly one graph per Mazurkiewicz class of
the interleaving census: no class missing (that would be a graph never
explored, so a verdict possibly wrong), none twice (the optimality TruSt
promises). Where ghosts and Program.visible are locations to the graph
strategy, a graph and a class are the same thing; that is what makes the count
a proof of both completeness and optimality. Where the ghosts stay out of the
graphs (graph.ghosts_off: sticky invariants only, ghost-free steering), a graph
stands for several classes, and the yardstick is the census of execution
graphs (explorer/search/graph_census.py): the same graphs, each once.
"""

from __future__ import annotations

import dataclasses

import langgen as lg
import pytest
from test_memory_model import CLASSICS

from explorer.compile.lowering import lower
from explorer.compile.program import Program
from explorer.lang.model import Model, ModelError
from explorer.memory.weak import unsupported as weak_unsupported
from explorer.search.budget import Budget, OutOfBudget
from explorer.search.common import end_of_run
from explorer.search.dpor import explore_dpor
from explorer.search.graph import collect_graph, explore_graph, ghosts_off, weak_form
from explorer.search.graph_census import graph_census
from explorer.search.oracle import census
from explorer.search.replay import replay
from explorer.search.result import VIOLATED

# Per shape class: programs drawn (seeded) and the least that must be small
# enough to compare (so that the test cannot pass by skipping everything).
SAMPLE = {"basic": (6, 4), "multi-guard": (6, 4), "choices": (6, 4), "rmw": (6, 3),
          "local-chains": (6, 4), "retry": (6, 3), "invariants": (6, 3), "ghosts": (6, 4),
          "daemons": (6, 4), "sequence": (6, 4), "weak": (6, 8)}
MAX_EVENTS = 4_000  # the graph strategy grows every graph of the steps' accesses taken
# one by one and keeps the atomic ones: a program past this is too slow for make test.
# The store-buffer form of TSO and PSO has flush steps over several locations, so
# few lowered programs stay under it: they are drawn from the weak shape only.


def as_finals(m: Model) -> Model:
    """m with its plain invariants checked at the end only: its ghosts then stay out
    of the graphs (graph.ghosts_off) wherever they steer nothing but ghosts."""
    return m.with_properties(tuple(
        q if q.kind == "final" or q.sticky else dataclasses.replace(q, kind="final")
        for q in m.properties))


# Shapes whose ghosts are also checked off the graphs, through as_finals.
GHOSTLY = ("ghosts", "invariants", "retry")


def _program(m: Model, mm: str) -> Program:
    return Program(m) if mm == "sc" else Program(lower(m, mm))


def compare(m: Model, mm: str) -> list[str] | None:
    """What differs (None: not loadable, or too big for this test)."""
    try:
        p = _program(m, mm)
        ref = census(p, max_executions=5_000)
    except (ModelError, RuntimeError):
        return None
    try:
        outcomes, stats, classes = collect_graph(p, max_events=MAX_EVENTS)
    except OutOfBudget:
        return None
    out = []
    for what in ("finals", "deadlocks", "violations"):
        want, have = getattr(ref.outcomes, what), getattr(outcomes, what)
        if want != have:
            out.append(f"{mm} {what}: only interleavings {sorted(want - have)[:3]}, "
                       f"only graphs {sorted(have - want)[:3]}")
    seen = set(classes)
    if len(seen) != len(classes):
        out.append(f"{mm}: {len(classes) - len(seen)} graphs explored twice")
    if ghosts_off(p):
        try:
            graphs = graph_census(p, "sc")
        except (ModelError, RuntimeError):
            return None
        want_keys = {_census_key(p, k) for k in graphs.keys}
        if seen != want_keys:
            out.append(f"{mm}: {len(want_keys - seen)} census graphs never explored, "
                       f"{len(seen - want_keys)} graphs the census does not have")
    elif seen != ref.classes:
        out.append(f"{mm}: {len(ref.classes - seen)} classes never explored, "
                   f"{len(seen - ref.classes)} graphs that are no class")
    if stats.executions != len(classes):
        out.append(f"{mm}: {stats.executions} executions counted, {len(classes)} graphs")
    return out


def _census_key(p: Program, key: tuple) -> tuple:
    """A graph census key as GraphSearch.key writes it: reads sorted, a blocked
    step's reads and choice left out, and no events for local fence steps (the
    census orders by them; Program runs them with the step before)."""
    th, co = key
    keep = [[k for k, e in enumerate(t) if not p.threads[u].steps[e[0]].local]
            for u, t in enumerate(th)]
    new = [{old: k for k, old in enumerate(ks)} for ks in keep]

    def src(w: tuple[int, int]) -> tuple[int, int]:
        return w if w[0] < 0 else (w[0], new[w[0]][w[1]])

    return (tuple(tuple((pc, () if blocked else tuple(sorted((x, src(w), v)
                                                                for x, w, v in reads)),
                         None if blocked else choice, blocked)
                        for k, (pc, reads, choice, blocked) in enumerate(t) if k in new[u])
                  for u, t in enumerate(th)),
            tuple(tuple(src(w) for w in c) for c in co))


@pytest.mark.parametrize("shape", sorted(SAMPLE))
def test_one_graph_per_class(shape: str) -> None:
    drawn, least = SAMPLE[shape]
    compared = 0
    off = 0
    for i in range(drawn):
        spec = lg.soak_spec(11, shape, i)
        models = [spec.m, as_finals(spec.m)] if shape in GHOSTLY else [spec.m]
        for mm in ("sc", "tso", "pso") if shape == "weak" else ("sc",):
            for m in models:
                problems = compare(m, mm)
                if problems is None:
                    continue
                compared += 1
                off += ghosts_off(_program(m, mm))
                assert not problems, f"\n{spec}\n{m is not spec.m=}\n" + "\n".join(problems)
    assert compared >= least, f"only {compared} programs small enough to compare"
    if shape in GHOSTLY:
        assert off >= 2, f"only {off} programs with their ghosts off the graphs"


@pytest.mark.parametrize("shape", ["invariants", "ghosts", "multi-guard", "daemons", "rmw"])
def test_verdicts_and_counterexamples_are_optimals(shape: str) -> None:
    """Same verdict as optimal DPOR; a violation's schedule replays to it."""
    checked = 0
    for i in range(16):
        spec = lg.soak_spec(11, shape, i)
        m = as_finals(spec.m) if i % 2 else spec.m
        try:
            p = Program(m)
            collect_graph(p, max_events=MAX_EVENTS)
        except (ModelError, OutOfBudget):
            continue
        want = explore_dpor(p, optimal=True, budget=Budget())
        got = explore_graph(p, Budget())
        assert got.verdict == want.verdict, f"\n{spec}"
        if got.verdict == VIOLATED:
            assert got.failure is not None and got.schedule is not None
            _, state = replay(p, got.schedule)
            broken = {q.name for q in p.failing_invariants(state)}
            end = end_of_run(p, state)[1] if not p.transitions(state) else None
            if end is not None:
                broken.add(end.name)
            assert got.failure.name in broken, f"\n{spec}\n{got.failure} {broken}"
        checked += 1
    assert checked >= 3


# -- TSO and PSO as consistency predicates (explorer/memory/weak.py) ----------------

# (Daemons loop over stores, which a store buffer cannot bound: no weak form.)
WEAK_SHAPES = {"weak": (8, 6), "basic": (4, 3), "rmw": (5, 3), "multi-guard": (2, 1),
               "choices": (4, 2), "sequence": (4, 3), "ghosts": (6, 2)}


def compare_weak(m: Model, mm: str) -> list[str] | None:
    """The graph strategy under memory.weak's predicate against the census of
    execution graphs placed by the machine (memory/machine.py): the same graphs,
    each once, and the same final states, deadlocks and violations. None: not
    loadable, not under the predicate, or too big."""
    try:
        p = Program(m)
        lower(m, mm)
    except ModelError:
        return None
    if weak_unsupported(p) is not None:
        return None
    try:
        ref = graph_census(p, mm, max_combinations=3_000)
    except (ModelError, RuntimeError):
        return None
    try:
        outcomes, stats, keys = collect_graph(p, max_events=MAX_EVENTS, mm=mm)
    except OutOfBudget:
        return None
    out = []
    for what in ("finals", "deadlocks", "violations"):
        want, have = getattr(ref.outcomes, what), getattr(outcomes, what)
        if want != have:
            out.append(f"{mm} {what}: only the census {sorted(want - have)[:3]}, "
                       f"only graphs {sorted(have - want)[:3]}")
    seen = set(keys)
    if len(seen) != len(keys):
        out.append(f"{mm}: {len(keys) - len(seen)} graphs explored twice")
    want_keys = {_census_key(p, k) for k in ref.keys}
    if seen != want_keys:
        out.append(f"{mm}: {len(want_keys - seen)} census graphs never explored, "
                   f"{len(seen - want_keys)} graphs the census does not have")
    if stats.executions != len(keys):
        out.append(f"{mm}: {stats.executions} executions counted, {len(keys)} graphs")
    return out


@pytest.mark.parametrize("shape", sorted(WEAK_SHAPES))
def test_weak_predicates_explore_the_census_graphs(shape: str) -> None:
    drawn, least = WEAK_SHAPES[shape]
    compared = 0
    for i in range(drawn):
        spec = lg.soak_spec(11, shape, i)
        for m in (spec.m, as_finals(spec.m)):
            for mm in ("tso", "pso"):
                problems = compare_weak(m, mm)
                if problems is None:
                    continue
                compared += 1
                assert not problems, f"\n{spec}\n" + "\n".join(problems)
    assert compared >= least, f"only {compared} programs small enough to compare"


@pytest.mark.parametrize("name", sorted(CLASSICS))
def test_weak_predicates_on_the_classic_shapes(name: str) -> None:
    m = CLASSICS[name][0].model(registers=True)
    for mm in ("tso", "pso"):
        assert compare_weak(m, mm) == [], (name, mm)


@pytest.mark.parametrize("shape", ["weak", "invariants", "ghosts", "multi-guard", "rmw"])
def test_weak_verdicts_and_counterexamples_are_optimals(shape: str) -> None:
    """On the store-buffer program, the graph strategy (which checks the model under
    the predicate) gives optimal's verdict, and its schedule replays there."""
    checked = 0
    for i in range(5):
        spec = lg.soak_spec(13, shape, i)
        m = as_finals(spec.m) if i % 2 else spec.m
        for mm in ("tso", "pso"):
            try:
                lp = Program(lower(m, mm))
                if weak_form(lp) is None:
                    continue  # explored as the store-buffer program: slow, tested above
                collect_graph(Program(m), max_events=MAX_EVENTS, mm=mm)
                want = explore_dpor(lp, optimal=True, budget=Budget(max_executions=20_000))
            except (ModelError, OutOfBudget):
                continue
            if want.verdict not in ("holds", VIOLATED):
                continue
            got = explore_graph(lp, Budget())
            assert got.verdict == want.verdict, f"\n{spec}\n{mm}"
            if got.verdict == VIOLATED:
                assert got.failure is not None and got.schedule is not None
                _, state = replay(lp, got.schedule)
                broken = {q.name for q in lp.failing_invariants(state)}
                if not lp.transitions(state):
                    end = end_of_run(lp, state)[1]
                    if end is not None:
                        broken.add(end.name)
                assert got.failure.name in broken, f"\n{spec}\n{mm} {got.failure} {broken}"
            checked += 1
    assert checked >= 3, checked


@pytest.mark.slow  # the graph strategy on a store-buffer program: slow even for SB
def test_what_the_predicates_do_not_describe_is_lowered() -> None:
    """A CPU shared by two threads orders its buffer by time: weak_form says so, and
    the graph strategy explores the store-buffer program instead (same verdict)."""
    spec = CLASSICS["SB"][0]
    m = spec.model(registers=True)
    shared_cpu = dataclasses.replace(
        m, threads=tuple(dataclasses.replace(t, cpu="c0") for t in m.threads))
    reason = weak_unsupported(Program(shared_cpu))
    assert reason is not None and "share CPU c0" in reason
    for model, under in ((m, True), (shared_cpu, False)):
        lp = Program(lower(model, "tso"))
        assert (weak_form(lp) is not None) == under
        want = explore_dpor(lp, optimal=True, budget=Budget())
        got = explore_graph(lp, Budget())
        assert (got.verdict, got.stats.executions > 0) == (want.verdict, True)


def test_a_revisit_past_an_rmw_store_placed_right_after_its_source() -> None:
    """Found by the soak: t1's step reads x0 and x1 and stores x0. Its store goes
    right after its source, and a revisit of its read of x1 must count that place
    as the maximal one (not the last): else the class where t1 read x0's initial
    value and t2's x1 is never explored."""
    m = lg.model({"x0": 0, "x1": 0}, [
        lg.thread("t0", [lg.op("t0", [lg.step("s1", writes=("x0",))], {})]),
        lg.thread("t1", [lg.op("t1", [lg.step("s1", reads=("x0", "x1"), writes=("x0",),
                                               atomic=True)], {})]),
        lg.thread("t2", [lg.op("t2", [lg.step("s2", writes=("x1",))], {})])])
    assert compare(m, "sc") == []
