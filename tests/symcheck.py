"""Symmetric programs and the census of their orbits, for tests/test_symmetry.py
and the soak (tests/langcheck.py): a program made symmetric by running one of
its threads more than once, and what differs between the graph strategy with
and without --symmetry, the graphs taken up to swapping the copies."""

from __future__ import annotations

import itertools

from explorer.compile.program import Program
from explorer.compile.symmetry import Symmetry, symmetry
from explorer.lang.model import Model, ModelError, Thread
from explorer.search.budget import Budget, OutOfBudget
from explorer.search.dpor import Outcomes
from explorer.search.graph import collect_graph

MAX_EVENTS = 4_000  # accesses added per run: larger programs are skipped (make soak has more)


def doubled(m: Model, copies: int = 2, keep: int | None = None) -> Model | None:
    """The model with its first non-daemon thread run `copies` times (and only its
    first `keep` threads, if given)."""
    threads = m.threads[:keep]
    base = next((t for t in threads if not t.daemon), None)
    if base is None:
        return None
    extra = tuple(Thread(f"{base.name}.copy{k}", base.ops, base.cpu, base.daemon, base.bound)
                  for k in range(1, copies))
    return Model(m.name, m.shared, m.ghosts, threads + extra, m.properties, m.description)


def perms(sym: Symmetry, n: int) -> list[list[int]]:
    """Every permutation of the threads that swaps symmetric ones only."""
    out = []
    for choice in itertools.product(*(itertools.permutations(g) for g in sym.groups)):
        pi = list(range(n))
        for g, img in zip(sym.groups, choice, strict=True):
            for a, b in zip(g, img, strict=True):
                pi[a] = b
        out.append(pi)
    return out


def orbit(key: tuple, pis: list[list[int]]) -> str:
    """A graph key (GraphSearch.key, every=True) up to the permutations."""
    th, co = key

    def node(w: tuple, pi: list[int]) -> tuple:
        return w if w[0] < 0 else (pi[w[0]], w[1])

    images = []
    for pi in pis:
        th2: list = [None] * len(th)
        for t, steps in enumerate(th):
            th2[pi[t]] = tuple((pc, tuple(sorted((x, node(w, pi), v) for x, w, v in reads)),
                                choice, blocked) for pc, reads, choice, blocked in steps)
        co2 = tuple(tuple(node(w, pi) for w in chain) for chain in co)
        images.append(repr((tuple(th2), co2)))
    return min(images)


def states(found: set, sym: Symmetry) -> set:
    key = sym.canonical()
    return {key(tuple(s)) for s in found}


def compare(m: Model, mm: str, max_events: int = MAX_EVENTS) -> list[str] | None:
    """What differs between graph with and without symmetry (None: too big)."""
    try:
        p = Program(m)
    except ModelError:
        return None
    sym = symmetry(p)
    if sym.trivial:
        return ["no symmetric threads found in a doubled program"]
    full: list[tuple] = []
    red: list[tuple] = []
    try:
        o1, _, _ = collect_graph(p, max_events=max_events, mm=mm, keys=full)
        o2, _, _ = collect_graph(p, Budget(symmetry=True), max_events=max_events, mm=mm,
                                 keys=red)
    except (OutOfBudget, ModelError):
        return None
    pis = perms(sym, len(p.threads))
    want = {orbit(k, pis) for k in full}
    got = [orbit(k, pis) for k in red]
    out = []
    if set(got) != want:
        out.append(f"{mm}: {len(want - set(got))} orbits never explored, "
                   f"{len(set(got) - want)} explored that are none")
    # One per orbit where the copies differ only in what they read: a Choice is not
    # ordered between symmetric threads (both orders are explored; see graph_symmetry).
    chooses = any(s.choose is not None for t in m.threads for o in t.ops for s in o.steps)
    if len(got) != len(set(got)) and not chooses:
        out.append(f"{mm}: {len(got)} graphs for {len(set(got))} orbits")
    out += outcome_problems(mm, o1, o2, sym)
    return out


def outcome_problems(mm: str, o1: Outcomes, o2: Outcomes, sym: Symmetry) -> list[str]:
    out = []
    for what, a, b in (("finals", o1.finals, o2.finals), ("deadlocks", o1.deadlocks,
                                                          o2.deadlocks)):
        if states(a, sym) != states(b, sym):
            out.append(f"{mm} {what} differ up to symmetry")
    if o1.violations != o2.violations:
        out.append(f"{mm} violations {sorted(o1.violations)} vs {sorted(o2.violations)}")
    return out
