"""Symmetric threads: which threads of a program are interchangeable.

Two threads are symmetric when they run the same operations with the same
arguments (model.Thread equal in everything but the name: the same steps,
over the same shared and ghost locations, the same CPU, daemon flag and
bound). Swapping them, with their pc and locals, maps every execution to an
execution: the shared and ghost locations, hence every property, the end of
a run and a deadlock, are untouched, and each thread's pc and locals are a
block of consecutive slots laid out the same way (Program._compile_thread).
Nothing here is trusted from the user: the relation is computed from the
model's data, and threads that differ in a single location name (a per-thread
counter) are not symmetric.

Used by the stateful strategy: its cache of explored states is keyed up to
the swap (`canonical`), so a state whose mirror was explored is not explored
again, and it is credited with the mirror's count of schedules (as many, with
the same verdicts). Properties cannot read locals (lang.model), so they are
symmetric too. And by the graph strategy, which explores one graph per orbit
(explorer/search/graph_symmetry.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .program import Program


def _code(program: Program, t: int) -> tuple:
    th = program.model.threads[t]
    return th.ops, th.cpu, th.daemon, th.bound


@dataclass(frozen=True)
class Symmetry:
    """The symmetric threads of a program, in groups of two or more."""

    groups: tuple[tuple[int, ...], ...]
    blocks: tuple[tuple[int, int], ...]  # per thread: its slots [start, end) (pc, locals)

    @property
    def trivial(self) -> bool:
        return not self.groups

    def predecessors(self) -> list[int | None]:
        """Per thread: the symmetric thread just before it, or None."""
        out: list[int | None] = [None] * len(self.blocks)
        for g in self.groups:
            for a, b in zip(g, g[1:], strict=False):
                out[b] = a
        return out

    def local(self, s: Sequence[int], t: int) -> tuple[int, ...]:
        a, b = self.blocks[t]
        return tuple(s[a:b])

    def canonical(self) -> Callable[[tuple[int, ...]], tuple[int, ...]]:
        """A key of states up to swapping symmetric threads: each group's blocks sorted
        (two states have the same key iff one is the other with threads swapped)."""
        if self.trivial:
            return lambda s: s
        groups = [[self.blocks[t] for t in g] for g in self.groups]

        def key(s: tuple[int, ...]) -> tuple[int, ...]:
            out = list(s)
            for blocks in groups:
                parts = sorted(s[a:b] for a, b in blocks)
                for (a, b), part in zip(blocks, parts, strict=True):
                    out[a:b] = part
            return tuple(out)

        return key


NOTHING = ("explorer: note: --symmetry: no two threads run the same operations with the "
           "same arguments; nothing to reduce")


def symmetry(program: Program) -> Symmetry:
    blocks = []
    for code in program.threads:
        start = code.pc_slot
        end = start + 1 + len(code.local_slots)
        if sorted(code.local_slots.values()) != list(range(start + 1, end)):
            raise AssertionError("a thread's pc and locals are not consecutive slots")
        blocks.append((start, end))
    by: list[tuple[tuple, list[int]]] = []  # operations hold dicts: compared, not hashed
    for t in range(len(program.threads)):
        same = _code(program, t)
        for seen, members in by:
            if seen == same:
                members.append(t)
                break
        else:
            by.append((same, [t]))
    groups = tuple(tuple(g) for _, g in by if len(g) > 1)
    return Symmetry(groups, tuple(blocks))
