"""Sequential consistency as a predicate over an execution graph of steps.

A step is atomic: one node, whatever it reads and writes. The graph is
consistent when po | rf | co | fr has no cycle, that is when some
interleaving of the steps gives every read the value of its rf source. The
same acyclicity makes a step that reads and writes one location atomic (a
store co-between its source and it closes a cycle through fr).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

Node = tuple[int, int]  # (thread, index of the step in the thread)
INIT: Node = (-1, -1)


class StepLike(Protocol):
    rl: tuple[int, ...]
    src: list[Node]


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
    succ = edges(threads, co)
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
