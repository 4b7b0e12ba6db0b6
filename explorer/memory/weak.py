"""x86-TSO and SPARC PSO as predicates over an execution graph of steps.

The machines are those of explorer/compile/lowering.py (and of
explorer/memory/machine.py, the census's operational yardstick), restated
axiomatically. Each step has an *issue* point (its loads, its ghost
updates, and its stores when it acts on memory directly) and each buffered
store a *visibility* point (its flush); coherence is the order of
visibility. A graph is an execution when the order below is acyclic: any
linear extension of it is a run of the machine in which every load reads
what the graph says, and every run gives one.

- program order between a thread's issues, issue before visibility;
- TSO: a thread's buffered stores become visible in program order; PSO: those
  to one location do, and smp_wmb() or a release store (``new_epoch``) puts
  every earlier buffered store before every later one;
- a drain (smp_mb(), "full", TSO's locked "relaxed") puts the thread's
  earlier buffered stores before its issue; PSO's "relaxed" only those to the
  location it stores to;
- coherence between visibilities;
- a load reading the thread's own newest store to its location needs
  nothing more (the buffer, or memory if it went); any other source is
  visible before the load, and so is the own newest store (it has gone, or
  the load would read it);
- from-reads: the load goes before the visibility of the store after its
  source in coherence.

The argument that reading the last store in coherence, or storing last, is
always consistent (the graph strategy relies on it) is the one for SC: such
a load or store has no edge out of it. This needs every CPU's buffer to
belong to one thread (``unsupported`` says when not): a CPU shared between
threads, or a step migrated to another CPU, orders issues by time, not by
program order.

``atomic``: one issue node per step (the model language's steps are atomic);
else one per access, each load and store of a step a point of its own (the
weaker model the graph strategy grows graphs under, see search/graph.py).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

from ..compile.program import Program
from .graph import access
from .sc import INIT, Node, acyclic

Point = tuple  # an issue (thread, step[, access]), a visibility ("v", t, i, x), a gate ("e", t, i)


@dataclass(frozen=True, slots=True)
class Order:
    """How a step's accesses are ordered (memory.graph.Access, with the fences
    that ran just before it folded in)."""

    direct: bool = False  # its stores act on memory at its issue
    drains: bool = False  # the thread's earlier buffered stores are visible before it
    drains_locs: bool = False  # PSO "relaxed": those to the locations it stores to
    new_epoch: bool = False  # PSO: smp_wmb() or release: earlier stores go first

    def then(self, other: Order) -> Order:
        """This order's fences, run before a step ordered by `other`."""
        return Order(other.direct, self.drains or other.drains, other.drains_locs,
                     self.new_epoch or other.new_epoch)


class OrderedStep(Protocol):
    rl: tuple[int, ...]
    wl: tuple[int, ...]
    src: list[Node]
    stamp: list[int]  # one per access present: its loads, then its stores
    order: Order


def points(threads: Sequence[Sequence[OrderedStep]], co: Sequence[list[Node]], mm: str,
           direct: Collection[int], atomic: bool) -> dict[Point, list[Point]]:
    """The successors of every point (see the module docstring). `direct`: slots
    that are never buffered (ghosts, Program.visible)."""
    succ: dict[Point, list[Point]] = {}
    vis: dict[tuple[Node, int], Point] = {}
    loads: list[tuple[Point, Node, int, Node, Node | None]] = []
    pso = mm == "pso"
    for t, steps in enumerate(threads):
        prev: Point | None = None
        last: Point | None = None  # TSO: the visibility of the newest buffered store
        last_at: dict[int, Point] = {}  # per location, the newest buffered store's
        gate: Point | None = None  # PSO: what the current epoch's stores wait for
        newest: dict[int, Node] = {}
        drain = epoch = False
        for i, st in enumerate(steps):
            o = st.order
            drain, epoch = drain or o.drains, epoch or o.new_epoch
            k = len(st.stamp)
            nl = len(st.rl)
            for j in range(max(k, 1) if atomic else k):
                me: Point = (t, i) if atomic else (t, i, j)
                if me not in succ:
                    succ[me] = []
                    if prev is not None:
                        succ[prev].append(me)
                    prev = me
                    if drain:
                        for v in (last_at.values() if pso else ([last] if last else [])):
                            succ[v].append(me)
                    if o.drains_locs and j == 0:
                        for x in st.wl:
                            if x in last_at:
                                succ[last_at[x]].append(me)
                    if epoch and pso:
                        gate = ("e", t, i)
                        succ[gate] = []
                        for v in last_at.values():
                            succ[v].append(gate)
                    drain = epoch = False
                if j >= k:
                    break  # a step with no access yet: its issue only
                if j < nl:
                    x = st.rl[j]
                    loads.append((me, (t, i), x, st.src[j], newest.get(x)))
                    continue
                x = st.wl[j - nl]
                if o.direct or x in direct:
                    v = me
                else:
                    v = ("v", t, i, x)
                    succ[v] = []
                    succ[me].append(v)
                    if pso:
                        if x in last_at:
                            succ[last_at[x]].append(v)
                        if gate is not None:
                            succ[gate].append(v)
                        last_at[x] = v
                    else:
                        if last is not None:
                            succ[last].append(v)
                        last = v
                        last_at[x] = v
                vis[((t, i), x)] = v
                newest[x] = (t, i)
    for x, chain in enumerate(co):
        for a, b in zip(chain, chain[1:], strict=False):
            succ[vis[(a, x)]].append(vis[(b, x)])
    pos = [{w: k for k, w in enumerate(c)} for c in co]
    for me, step, x, w, own in loads:
        if w != own or w == INIT:
            if w != INIT:
                succ[vis[(w, x)]].append(me)
            if own is not None:
                succ[vis[(own, x)]].append(me)
        chain = co[x]
        k = 0 if w == INIT else pos[x][w] + 1
        if k < len(chain) and chain[k] != step:
            succ[me].append(vis[(chain[k], x)])
    return succ


def consistent(threads: Sequence[Sequence[OrderedStep]], co: Sequence[list[Node]], mm: str,
               direct: Collection[int], atomic: bool) -> bool:
    return acyclic(points(threads, co, mm, direct, atomic))


def orders(program: Program, mm: str) -> dict[tuple[int, int], Order]:
    """Each step's Order on the machine, as lowering reads it (memory.graph.access)."""
    out = {}
    for code in program.threads:
        for pc, cs in enumerate(code.steps):
            a = access(program, cs, mm)
            out[(cs.thread, pc)] = Order(a.direct, bool(a.drains), a.drains_locs, a.new_epoch)
    return out


def unsupported(program: Program) -> str | None:
    """Why these predicates do not describe the program's machine, or None: a CPU
    shared between threads, or a step migrated to another CPU, orders a buffer's
    stores by time rather than by one thread's program order; a plain invariant is
    checked on every state, and a graph under weak memory has no single order of
    states (only sticky invariants and final properties are checked on graphs)."""
    homes: dict[str, str] = {}
    for t in program.model.threads:
        if t.home in homes:
            return f"threads {homes[t.home]} and {t.name} share CPU {t.home}"
        homes[t.home] = t.name
        for op in t.ops:
            for step in op.steps:
                if step.cpu and step.cpu != t.home:
                    return f"step {step.label!r} of {t.name} runs on CPU {step.cpu}"
    for q in program.invariants:
        if not q.sticky:
            return f"invariant {q.name} is checked after every step"
    return None
