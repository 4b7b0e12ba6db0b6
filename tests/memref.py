"""A reference interpreter for tests/randprog.py programs under SC, x86-TSO and SPARC PSO.

Written from the machines' definitions, independently of explorer/compile/lowering.py
(which lowers models to store-buffer threads): it walks every reachable
state of a ``Spec`` (DFS with a visited set) and returns the final outcomes
(memory and each thread's register once every thread has finished and every
buffer has drained) and whether a deadlock is reachable. A state is
(pcs, register histories, memory, buffers, epochs), all tuples; a thread's
register is the last digit of its history.

- SC: every access acts on memory, in program order.
- TSO (Owens, Sarkar, Sewell, "A better x86 memory model: x86-TSO"): one FIFO
  of (location, value) per thread. A store appends; a load reads the newest
  own buffered store to its location, else memory; the oldest entry may move
  to memory at any time. smp_mb() and locked RMWs ("full", and "relaxed":
  x86 has no weaker atomic) wait for an empty buffer and act on memory.
- PSO (SPARC V8 PSO): one FIFO per thread and location; the oldest entry of
  any of them may move to memory at any time, except that stores are
  partitioned into epochs by smp_wmb() and release stores (the release store
  opens a new epoch before it is buffered), and no store may reach memory
  while an own store of an older epoch is still buffered. smp_mb() and "full"
  RMWs wait for all own buffers to drain; "relaxed" RMWs wait for the own
  buffer of their location to drain; both then act on memory atomically.
- Everywhere: smp_rmb() and acquire loads do nothing more than a load
  (loads are not reordered on these machines); smp_wmb() does nothing on
  TSO. A "plain" RMW (this_cpu_inc(), this_cpu_xchg(), this_cpu_cmpxchg())
  reads like a load and buffers its store in the same step (atomic against
  its own CPU only). this_cpu_cmpxchg() stores even when the comparison
  fails, writing back the value it read: x86's unlocked CMPXCHG does (Intel
  SDM, CMPXCHG: "the destination operand is written back if the comparison
  fails"), and the model language says the same (its write is declared
  unconditionally).

Blocking steps: ``wait x c`` blocks until the thread's own view of x is c;
``lock`` is a "full" RMW (x86 LOCK CMPXCHG; on PSO ldstub and membar)
that blocks until l == 0 in memory and sets it; ``unlock`` is a release
store (randprog gives weak programs' lock steps these orders). A deadlock is
a state where no thread can move and some thread has not finished; since a
non-empty buffer can always flush, its buffers are empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from randprog import LOCK, REGISTER_BASE, VARS, Op, Spec

MODELS = ("sc", "tso", "pso")

Outcome = tuple[tuple[int, ...], tuple[int, ...]]
"""(values of the program's variables in VARS order, each thread's register history:
one REGISTER_BASE digit per value the register took, as randprog's ghosts keep it)."""

# Per thread: TSO ((loc, value), ...); PSO one ((value, epoch), ...) per location.
Buffer = tuple
State = tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[Buffer, ...],
              tuple[int, ...]]


@dataclass(frozen=True)
class Reference:
    finals: frozenset[Outcome]
    deadlocks: frozenset[Outcome]  # memory and registers where no move is possible
    states: int  # reachable states, for curiosity and for bounding test cost

    @property
    def deadlock(self) -> bool:
        return bool(self.deadlocks)


def run(spec: Spec, mm: str) -> Reference:
    """Every final outcome of ``spec`` on machine ``mm`` (sc | tso | pso)."""
    if mm not in MODELS:
        raise ValueError(f"unknown memory model {mm!r}")
    return _Machine(spec, mm).explore()


class _Machine:
    def __init__(self, spec: Spec, mm: str):
        self.spec = spec
        self.mm = mm
        self.locs = list(VARS[: len(spec.init)]) + ([LOCK] if spec.uses_lock else [])
        self.index = {x: i for i, x in enumerate(self.locs)}
        self.nvars = len(spec.init)

    # -- states ------------------------------------------------------------------

    def initial(self) -> State:
        n = len(self.spec.threads)
        mem = tuple(self.spec.init) + ((0,) if self.spec.uses_lock else ())
        empty: Buffer = tuple(() for _ in self.locs) if self.mm == "pso" else ()
        return (0,) * n, (0,) * n, mem, (empty,) * n, (0,) * n

    def view(self, s: State, t: int, x: str) -> int:
        """What thread t reads at x: its newest buffered store to x, else memory."""
        i = self.index[x]
        buf = s[3][t]
        if self.mm == "tso":
            for loc, v in reversed(buf):
                if loc == i:
                    return int(v)
        elif self.mm == "pso" and buf[i]:
            return int(buf[i][-1][0])
        return s[2][i]

    def drained(self, s: State, t: int, x: str | None = None) -> bool:
        """Thread t's buffers are empty (only the one for x, under PSO, when given)."""
        buf = s[3][t]
        if self.mm == "pso":
            return not buf[self.index[x]] if x is not None else not any(buf)
        return not buf

    def store(self, s: State, t: int, x: str, v: int, release: bool = False) -> State:
        """A store: to memory under SC, else appended to t's buffer."""
        pcs, regs, mem, bufs, epochs = s
        i = self.index[x]
        if self.mm == "sc":
            return pcs, regs, _set(mem, i, v), bufs, epochs
        if self.mm == "tso":
            return pcs, regs, mem, _set(bufs, t, bufs[t] + ((i, v),)), epochs
        if release:  # everything stored before it reaches memory first
            epochs = _set(epochs, t, epochs[t] + 1)
        buf = _set(bufs[t], i, bufs[t][i] + ((v, epochs[t]),))
        return pcs, regs, mem, _set(bufs, t, buf), epochs

    def direct(self, s: State, i: int, v: int) -> State:
        pcs, regs, mem, bufs, epochs = s
        return pcs, regs, _set(mem, i, v), bufs, epochs

    # -- moves ---------------------------------------------------------------------

    def moves(self, s: State) -> Iterator[State]:
        for t in range(len(self.spec.threads)):
            if s[0][t] < len(self.spec.threads[t]):
                nxt = self.step(s, t)
                if nxt is not None:
                    yield nxt
            yield from self.flushes(s, t)

    def flushes(self, s: State, t: int) -> Iterator[State]:
        pcs, regs, mem, bufs, epochs = s
        buf = bufs[t]
        if self.mm == "tso" and buf:
            (i, v), rest = buf[0], buf[1:]
            yield pcs, regs, _set(mem, i, v), _set(bufs, t, rest), epochs
        elif self.mm == "pso":
            for i, fifo in enumerate(buf):
                if not fifo:
                    continue
                v, epoch = fifo[0]
                if any(e < epoch for other in buf for _, e in other):
                    continue  # an older epoch's store is still buffered
                yield pcs, regs, _set(mem, i, v), _set(bufs, t, _set(buf, i, fifo[1:])), epochs

    def step(self, s: State, t: int) -> State | None:
        """Thread t's next step, or None when it must wait."""
        op = self.spec.threads[t][s[0][t]]
        k = op.kind
        advance = 1
        if k == "skip":
            advance = 2 if self.view(s, t, op.var) == op.a else 1
            out = s
        elif k in ("mb", "wmb", "rmb"):
            if k == "mb" and not self.drained(s, t):
                return None
            out = s
            if k == "wmb" and self.mm == "pso":
                out = s[0], s[1], s[2], s[3], _set(s[4], t, s[4][t] + 1)
        elif k in ("load", "acq"):
            out = _reg(s, t, self.view(s, t, op.var))
        elif k in ("store", "rel", "storer"):
            v = s[1][t] % REGISTER_BASE if k == "storer" else op.a
            out = self.store(s, t, op.var, v, release=(k == "rel"))
        elif k == "wait":
            if self.view(s, t, op.var) != op.a:
                return None
            out = s
        elif k == "lock":  # a full cmpxchg(l, 0, 1) that blocks while l != 0
            if not self.drained(s, t) or s[2][self.index[LOCK]] != 0:
                return None
            out = self.direct(s, self.index[LOCK], 1)
        elif k == "unlock":
            out = self.store(s, t, LOCK, 0, release=True)
        elif k in ("inc", "xchg", "cas"):
            rmw = self.rmw(s, t, op)
            if rmw is None:
                return None
            out = rmw
        else:
            raise ValueError(f"unknown step kind {k!r}")
        return _set(out[0], t, s[0][t] + advance), out[1], out[2], out[3], out[4]

    def rmw(self, s: State, t: int, op: Op) -> State | None:
        order = op.order or "plain"
        if self.mm == "sc":
            order = "full"
        elif self.mm == "tso" and order == "relaxed":
            order = "full"  # a locked instruction
        if order == "full" and not self.drained(s, t):
            return None
        if order == "relaxed" and not self.drained(s, t, op.var):
            return None
        old = self.view(s, t, op.var)
        if op.kind == "inc":
            new = old + 1
        elif op.kind == "xchg":
            new = op.a
        else:
            new = op.b if old == op.a else old
        if op.kind != "inc":
            s = _reg(s, t, old)
        if order == "plain":
            return self.store(s, t, op.var, new)
        return self.direct(s, self.index[op.var], new)

    # -- the search ------------------------------------------------------------------

    def explore(self) -> Reference:
        start = self.initial()
        seen = {start}
        stack = [start]
        finals: set[Outcome] = set()
        deadlocks: set[Outcome] = set()
        while stack:
            s = stack.pop()
            succ = list(self.moves(s))
            if not succ:
                done = all(pc >= len(ops) for pc, ops in zip(s[0], self.spec.threads,
                                                            strict=True))
                # Nothing can move, so every buffer has drained (a flush always can).
                assert all(self.drained(s, t) for t in range(len(s[0])))
                (finals if done else deadlocks).add((s[2][: self.nvars], s[1]))
            for s2 in succ:
                if s2 not in seen:
                    seen.add(s2)
                    stack.append(s2)
        return Reference(frozenset(finals), frozenset(deadlocks), len(seen))


def _set(t: tuple, i: int, v: object) -> tuple:
    return t[:i] + (v,) + t[i + 1 :]


def _reg(s: State, t: int, v: int) -> State:
    """Thread t's register becomes v (a new digit of its history)."""
    assert 0 <= v < REGISTER_BASE, "register values are small in these programs"
    return s[0], _set(s[1], t, s[1][t] * REGISTER_BASE + v), s[2], s[3], s[4]
