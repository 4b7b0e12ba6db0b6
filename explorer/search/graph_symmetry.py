"""One graph per orbit of symmetric threads, for the graph strategy (`--symmetry`).

After SPORE (Kokologiannakis, Marmanis, Vafeiadis, "SPORE: Combining symmetry
and partial order reduction", PLDI 2024), restated for the labels of
explorer/search/graph.py. Threads a < b are symmetric when
explorer/compile/symmetry.py says so. While the first n labels of a and b are
the same loads (the same step from the same pc and locals, the same choice,
reading the same store), the two threads are in the same state, and their
n-th labels, when they are the same access, are ordered canonically: the
earlier thread's is not later in coherence (a load reads a store no later
than the one b's load reads; a store is placed before b's). A graph that
breaks the order is the mirror of one that keeps it, and is not grown. A
Choice (a step's value taken without a read) is not ordered between copies:
both orders are explored, so there the reduction keeps more than one graph
of an orbit, never fewer.

A backward revisit keeps the revisiting store's po|rf prefix. With symmetry
that prefix also holds, for each label of a thread b in it, the label of the
thread a before b at the end of their shared prefix (and what that label
read), taken when b's label was added, as GenMC's prefix views are
(`augment`, Step.aug in graph.py): without it a revisit could delete the label
that made b's choice the canonical one, and the one way TruSt has to the
canonical graph would go through a graph the order prunes. The revisiting
store's own is taken before the revisit deletes anything.

The census of orbits is the proof (tests/test_symmetry.py): on random
programs with identical threads, the graphs explored with symmetry, each taken
up to swapping the threads, are every orbit of the graphs explored without.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ..compile.symmetry import Symmetry
from ..memory.sc import INIT, Node


class SymStep(Protocol):
    rl: tuple[int, ...]
    wl: tuple[int, ...]
    src: list[Node]
    stamp: list[int]
    before: tuple[int, ...]
    choice: int | None


Labels = list[tuple[int, int]]  # a thread's present labels, (step, label in step), in po


def labels(steps: Sequence[SymStep]) -> Labels:
    return [(i, j) for i, st in enumerate(steps) for j in range(len(st.stamp))]


@dataclass
class Symmetric:
    sym: Symmetry

    def __post_init__(self) -> None:
        n = len(self.sym.blocks)
        self.pred: list[int | None] = self.sym.predecessors()
        self.before: list[list[int]] = [[] for _ in range(n)]
        self.after: list[list[int]] = [[] for _ in range(n)]
        for g in self.sym.groups:
            for k, t in enumerate(g):
                self.before[t] = list(g[max(0, k - 1):k])
                self.after[t] = list(g[k + 1:k + 2])

    def kind(self, steps: Sequence[SymStep], u: int, i: int, j: int) -> tuple:
        st = steps[i]
        return self.sym.local(st.before, u), st.choice, j

    def shared(self, th: Sequence[Sequence[SymStep]], a: int, b: int, n: int,
               la: Labels, lb: Labels) -> int:
        """How far threads a and b share their labels before b's label n: the last
        index m < n (capped by a's labels) up to which both are the same loads
        reading the same stores; -1 when none."""
        limit = min(n, len(la) - 1)
        sa, sb = th[a], th[b]
        for m in range(limit):
            (ia, ja), (ib, jb) = la[m], lb[m]
            if self.kind(sa, a, ia, ja) != self.kind(sb, b, ib, jb):
                return m - 1
            if ja >= len(sa[ia].rl) or sa[ia].src[ja] != sb[ib].src[jb]:
                return m - 1  # a store ends the shared prefix; so do different sources
        return limit

    def ok(self, th: Sequence[Sequence[SymStep]], co: Sequence[list[Node]], t: int,
           i: int, j: int) -> bool:
        """Label j of step i of thread t keeps the canonical order with every thread
        symmetric to it."""
        if not self.before[t] and not self.after[t]:
            return True
        lt = labels(th[t])
        n = lt.index((i, j))
        for u in self.before[t] + self.after[t]:
            lu = labels(th[u])
            if self.shared(th, u, t, n, lu, lt) != n:
                continue
            iu, ju = lu[n]
            if self.kind(th[u], u, iu, ju) != self.kind(th[t], t, i, j):
                continue
            first, second = (u, t) if u < t else (t, u)
            pa = _place(th, co, first, *(lu[n] if first == u else (i, j)))
            pb = _place(th, co, second, *(lu[n] if second == u else (i, j)))
            if pa > pb:
                return False
        return True

    def augment(self, th: Sequence[Sequence[SymStep]], u: int, i: int, j: int
                ) -> tuple[int, int, int] | None:
        """The label of the thread before u, at the end of the prefix it shares with
        u before u's label (i, j) (present, or the next one u adds), that a revisit
        must keep with it; or None."""
        a = self.pred[u]
        if a is None:
            return None
        lu, la = labels(th[u]), labels(th[a])
        if not la:
            return None
        n = lu.index((i, j)) if (i, j) in lu else len(lu)
        si = self.shared(th, a, u, n, la, lu)
        if si < 0:
            return None
        ia, ja = la[si]
        return a, ia, ja


def _place(th: Sequence[Sequence[SymStep]], co: Sequence[list[Node]], u: int, i: int,
           j: int) -> int:
    """Where label j of step i of thread u sits in its location's coherence: a load
    at its source (INIT first), a store at itself."""
    st = th[u][i]
    if j < len(st.rl):
        x, w = st.rl[j], st.src[j]
        return -1 if w == INIT else co[x].index(w)
    x = st.wl[j - len(st.rl)]
    return co[x].index((u, i))
