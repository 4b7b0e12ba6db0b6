"""Is a candidate graph an execution of a machine? Operationally, by search.

Given every thread's events (with what each read, and from which event), the
machine places them one point at a time: a step's *issue* (its loads, its
ghost updates, and its stores when it acts on memory directly) in program
order, and under TSO and PSO the *visibility* of each buffered store (a
flush). A load reads its own CPU's newest buffered store to the location,
else memory; the order of flushes is coherence. The rules are those of
explorer/compile/lowering.py's docstring, restated over a graph (drains for
smp_mb(), "full" and migrated steps, TSO's per-CPU FIFO, PSO's per-location
FIFO and smp_wmb()/release epochs). A graph is consistent when some order
places every event with the reads it claims; each order's prefixes are the
states the graph passes through, so invariants are checked there and the
ghosts computed along them.

This is the census's yardstick (explorer/search/graph_census.py): it tries
every order, so it is exponential, and meant for small programs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..compile.program import Program
from ..lang.expr import Ghost
from .graph import INIT, Access, Event, Src, access


@dataclass(frozen=True)
class Run:
    """One thread's events in a candidate graph, and its state after them."""

    events: tuple[Event, ...]
    end: tuple[int, ...]  # the thread's view after its last step (its own slots count)
    done: bool  # returned (else its last event is blocked)


@dataclass
class Placed:
    """What the search found for one candidate: the coherence orders a complete
    placement produced, each with the final states its orders reached."""

    complete: dict[tuple, set[tuple[int, ...]]] = field(default_factory=dict)
    violations: set[str] = field(default_factory=set)
    # Stores of events some order could place (whether or not it completes): a
    # run of the machine made them, so a load may read them in another graph.
    stores: set[tuple[int, Src, int]] = field(default_factory=set)


class Machine:
    def __init__(self, program: Program, mm: str):
        self.p = program
        self.mm = mm
        self.nshared = len(program.model.shared)
        self.ghost_slots = [program.slot[Ghost(g)] for g in program.model.ghosts]
        self.acc: dict[tuple[int, int], Access] = {
            (cs.thread, pc): access(program, cs, mm)
            for code in program.threads for pc, cs in enumerate(code.steps)
        }
        self.init = program.initial_state()
        self.writes_ghost = {
            (cs.thread, pc): any(w in program.model.ghosts for w in cs.step.writes)
            for code in program.threads for pc, cs in enumerate(code.steps)
        }
        self.cpus = sorted({a.cpu for a in self.acc.values()} |
                           {c for a in self.acc.values() for c in a.drains})

    def place(self, runs: Sequence[Run]) -> Placed:
        p, out = self.p, Placed()
        ev = [[e for e in r.events if not e.blocked] for r in runs]
        value = {(e.thread, e.index): dict(e.writes) for es in ev for e in es}
        cpu_of = {c: i for i, c in enumerate(self.cpus)}
        init_mem = tuple(INIT for _ in range(self.nshared))
        ghosts0 = tuple(self.init[g] for g in self.ghost_slots)
        seen: set[tuple] = set()

        def state(mem: tuple[Src, ...], ghosts: tuple[int, ...]) -> list[int]:
            s = list(self.init)
            for x, src in enumerate(mem):
                if src != INIT:
                    s[x] = value[src][x]
            for g, v in zip(self.ghost_slots, ghosts, strict=True):
                s[g] = v
            return s

        out.violations.update(q.name for q in p.failing_invariants(state(init_mem, ghosts0)))
        empty: tuple[tuple[int, int, int, int], ...] = ()
        no_co: tuple[tuple[Src, ...], ...] = tuple(() for _ in range(self.nshared))
        stack = [(tuple(0 for _ in runs), tuple(empty for _ in self.cpus), init_mem,
                  no_co, ghosts0,
                  tuple(0 for _ in self.cpus))]
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            nxt, pend, mem, co, ghosts, epochs = node
            moved = False
            for t, es in enumerate(ev):
                k = nxt[t]
                if k == len(es):
                    continue
                e = es[k]
                a = self.acc[(t, e.pc)]
                c = cpu_of[a.cpu]
                if any(pend[cpu_of[d]] for d in a.drains):
                    continue
                if a.drains_locs and any(q[2] in value[(t, e.index)] for q in pend[c]):
                    continue
                ok = True
                for x, src, _v in e.reads:
                    own = [q for q in pend[c] if q[2] == x] if not a.direct else []
                    have = (own[-1][0], own[-1][1]) if own else mem[x]
                    if have != src:
                        ok = False
                        break
                if not ok:
                    continue
                ep = list(epochs)
                if a.new_epoch:
                    ep[c] += 1
                m2, pd = list(mem), list(pend)
                co2: list[tuple[Src, ...]] = list(co)
                for x, _v in e.writes:
                    if a.direct:
                        m2[x] = (t, e.index)
                        co2[x] = co2[x] + ((t, e.index),)
                    else:
                        pd[c] = pd[c] + ((t, e.index, x, ep[c]),)
                out.stores.update((x, (t, e.index), v) for x, v in e.writes)
                g2 = self._ghosts(e, ghosts) if self.writes_ghost[(t, e.pc)] else ghosts
                n2 = nxt[:t] + (k + 1,) + nxt[t + 1:]
                self._check(state(tuple(m2), g2), out)
                stack.append((n2, tuple(pd), tuple(m2), tuple(co2), g2, tuple(ep)))
                moved = True
            for c, q in enumerate(pend):
                for i, (t, k, x, epoch) in enumerate(q):
                    if any(r[2] == x for r in q[:i]):
                        continue  # an older store to x goes first
                    if self.mm == "tso" and i > 0:
                        break
                    if self.mm == "pso" and any(r[3] < epoch for r in q):
                        continue
                    m2 = list(mem)
                    co2 = list(co)
                    m2[x] = (t, k)
                    co2[x] = co2[x] + ((t, k),)
                    pd = list(pend)
                    pd[c] = q[:i] + q[i + 1:]
                    self._check(state(tuple(m2), ghosts), out)
                    stack.append((nxt, tuple(pd), tuple(m2), tuple(co2), ghosts, epochs))
                    moved = True
            if not moved and all(nxt[t] == len(ev[t]) for t in range(len(ev))) and not any(pend):
                final = self._final(runs, mem, ghosts, state)
                if final is not None:
                    out.complete.setdefault(co, set()).add(final)
        return out

    def _check(self, s: list[int], out: Placed) -> None:
        out.violations.update(q.name for q in self.p.failing_invariants(s))

    def _ghosts(self, e: Event, ghosts: tuple[int, ...]) -> tuple[int, ...]:
        s = list(e.before)
        for g, v in zip(self.ghost_slots, ghosts, strict=True):
            s[g] = v
        cs = self.p.threads[e.thread].steps[e.pc]
        if e.choice is None:
            cs.apply(s)
        else:
            cs.apply(s, e.choice)
        return tuple(s[g] for g in self.ghost_slots)

    def _final(self, runs: Sequence[Run], mem: tuple[Src, ...], ghosts: tuple[int, ...],
               state) -> tuple[int, ...] | None:
        """The final state, or None when a blocked step read other than the final
        memory (a thread still waiting there would see the last stores: another
        graph)."""
        for r in runs:
            if not r.done and any(mem[x] != src for x, src, _ in r.events[-1].reads):
                return None
        s = state(mem, ghosts)
        for t, r in enumerate(runs):
            code = self.p.threads[t]
            s[code.pc_slot] = r.end[code.pc_slot]
            for slot in code.local_slots.values():
                s[slot] = r.end[slot]
        return tuple(s)
