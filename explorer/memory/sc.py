"""Sequential consistency as a predicate over an execution graph of steps.

A step is atomic: one node, whatever it reads and writes. The graph is
consistent when po | rf | co | fr has no cycle, that is when some
interleaving of the steps gives every read the value of its rf source. The
same acyclicity makes a step that reads and writes one location atomic (a
store co-between its source and it closes a cycle through fr).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol, TypeVar

Node = tuple[int, int]  # (thread, index of the step in the thread)
INIT: Node = (-1, -1)


class StepLike(Protocol):
    rl: tuple[int, ...]
    src: list[Node]


class LabelledStep(StepLike, Protocol):
    wl: tuple[int, ...]
    stamp: list[int]  # one per present label: its reads, then its stores


def edges(threads: Sequence[Sequence[StepLike]], co: Sequence[list[Node]]
          ) -> dict[Node, list[Node]]:
    """Successors of every step under po | rf | co | fr (fr to the next store only:
    co's chain gives the rest)."""
    succ: dict[Node, list[Node]] = {}
    for t, steps in enumerate(threads):
        for i in range(len(steps)):
            succ[(t, i)] = [(t, i + 1)] if i + 1 < len(steps) else []
    pos: list[dict[Node, int]] = [{w: k for k, w in enumerate(c)} for c in co]
    for chain in co:
        for a, b in zip(chain, chain[1:], strict=False):
            succ[a].append(b)
    for t, steps in enumerate(threads):
        for i, st in enumerate(steps):
            me = (t, i)
            for x, w in zip(st.rl, st.src, strict=False):
                chain = co[x]
                if w == INIT:
                    k = 0
                else:
                    succ[w].append(me)
                    k = pos[x][w] + 1
                if k < len(chain) and chain[k] != me:
                    succ[me].append(chain[k])
    return succ


def order(threads: Sequence[Sequence[StepLike]], co: Sequence[list[Node]]
          ) -> list[Node] | None:
    """An interleaving of the steps consistent with the graph (lowest thread first
    among the steps that may go next), or None when there is none."""
    succ = edges(threads, co)
    indeg = dict.fromkeys(succ, 0)
    for outs in succ.values():
        for b in outs:
            indeg[b] += 1
    ready = sorted(n for n, d in indeg.items() if d == 0)
    out: list[Node] = []
    while ready:
        n = ready.pop(0)
        out.append(n)
        for b in succ[n]:
            indeg[b] -= 1
            if indeg[b] == 0:
                ready.append(b)
                ready.sort()
    return out if len(out) == len(succ) else None


def consistent(threads: Sequence[Sequence[StepLike]], co: Sequence[list[Node]]) -> bool:
    return acyclic(edges(threads, co))


K = TypeVar("K")


def acyclic(succ: Mapping[K, list[K]]) -> bool:
    indeg = dict.fromkeys(succ, 0)
    for outs in succ.values():
        for b in outs:
            indeg[b] += 1
    ready = [n for n, d in indeg.items() if d == 0]
    seen = 0
    while ready:
        n = ready.pop()
        seen += 1
        for b in succ[n]:
            indeg[b] -= 1
            if indeg[b] == 0:
                ready.append(b)
    return seen == len(succ)


def ancestors(threads: Sequence[Sequence[StepLike]], co: Sequence[list[Node]],
              of: Iterable[Node]) -> set[Node]:
    """The steps that come before (or are) the given ones in every interleaving."""
    pred: dict[Node, list[Node]] = {}
    for a, outs in edges(threads, co).items():
        pred.setdefault(a, [])
        for b in outs:
            pred.setdefault(b, []).append(a)
    seen: set[Node] = set()
    todo = list(of)
    while todo:
        n = todo.pop()
        if n not in seen:
            seen.add(n)
            todo.extend(pred[n])
    return seen


Label = tuple[int, int, int]  # (thread, step, index of the access in the step)


def label_consistent(threads: Sequence[Sequence[LabelledStep]], co: Sequence[list[Node]]
                     ) -> bool:
    """Sequential consistency over the steps' accesses taken one by one (a step's
    loads then its stores, in program order): the predicate the graph strategy
    grows graphs under. It is the model TruSt is proved for, plain loads and
    stores under SC, where a load reading the last store, or a store placed
    last, is always consistent (a step that read an old value of one location
    may not be able to read the newest of another atomically, so the steps'
    atomicity, over one location or several, is checked on whole graphs by
    `consistent`)."""
    succ: dict[Label, list[Label]] = {}
    for t, steps in enumerate(threads):
        prev: Label | None = None
        for i, st in enumerate(steps):
            for j in range(len(st.stamp)):
                n = (t, i, j)
                succ[n] = []
                if prev is not None:
                    succ[prev].append(n)
                prev = n
    pos: list[dict[Node, int]] = [{w: k for k, w in enumerate(c)} for c in co]

    def store(w: Node, x: int) -> Label:
        st = threads[w[0]][w[1]]
        return (w[0], w[1], len(st.rl) + st.wl.index(x))

    for x, chain in enumerate(co):
        for a, b in zip(chain, chain[1:], strict=False):
            succ[store(a, x)].append(store(b, x))
    for t, steps in enumerate(threads):
        for i, st in enumerate(steps):
            for j, (x, w) in enumerate(zip(st.rl, st.src, strict=False)):
                me = (t, i, j)
                chain = co[x]
                if w == INIT:
                    k = 0
                else:
                    succ[store(w, x)].append(me)
                    k = pos[x][w] + 1
                if k < len(chain) and chain[k] != (t, i):
                    succ[me].append(store(chain[k], x))
    return acyclic(succ)
