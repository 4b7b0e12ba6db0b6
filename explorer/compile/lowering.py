"""Weak memory models as a model-to-model transformation.

``lower(model, "tso" | "pso")`` returns a plain model whose interleavings
under sequential consistency are exactly the executions of ``model`` on that
machine, so every backend (the explorers, the z3 encoder, the exporters) gets
weak memory without knowing about it. This is the construction of Abdulla,
Aronis, Atig, Jonsson, Leonardsson and Sagonas, "Stateless model checking
for TSO and PSO" (TACAS 2015): store buffers are state, and each flush of a
buffered store is an event of its own that the explorer schedules like any
other, so DPOR orders flushes against the loads they race with.

Per CPU ``c`` (a thread's ``cpu``, by default its name) and location ``x``
that c stores to, a buffer ``sb.c.x``: a count ``n``, values ``v0..`` and
ordering tags ``t0..`` (oldest first), plus per CPU the stores ``issued``
and ``flushed`` so far. A daemon thread ``flush.c.x`` moves the oldest entry
to memory when it is the next allowed to go:

- TSO (x86-TSO): one FIFO per CPU. The tag is the store's issue number and a
  flush goes only when every older store of c has gone (``t0 == flushed``).
- PSO (SPARC PSO): stores to different locations may reach memory in any
  order, except across smp_wmb() or a release store: the tag is the CPU's
  barrier epoch, and a flush waits for every entry of an older epoch.

How each access behaves (Step.order, Step.fence; plain and once alike):
- load: its own CPU's newest buffered store to the location, else memory;
- store: appended to the buffer (a release store first opens a new epoch
  under PSO: everything stored before it goes first);
- a plain step that reads and writes one location (this_cpu_inc()): both at
  once, the store buffered; atomic against its own CPU only, as in Linux;
- smp_mb() and "full" accesses wait until c's buffers are empty ("full"
  then acts on memory directly, so nothing passes it either way);
- "relaxed" atomics act on memory atomically; on TSO they are x86 locked
  instructions and drain the buffer like "full"; on PSO they wait only for
  c's earlier stores to the same location;
- smp_rmb() and acquire loads: nothing to do, loads are not reordered here;
  smp_wmb(): nothing on TSO, a new epoch on PSO;
- a step whose ``cpu`` differs from its thread's (a task migrated for that
  step) waits until both CPUs' buffers are empty and acts on memory: the
  scheduler's migration implies full barriers on both.

Buffers are bounded by the program, not by a constant: a buffer holds at
most the number of store steps to its location that can run on its CPU,
which is finite because a store inside a loop is rejected (a spin loop of
loads is fine). Ghost variables are instrumentation and stay sequentially
consistent: they change when the step runs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..lang.expr import TRUE, Const, Expr, Shared, Var, eq, ge, gt, ite, land, lor, substitute
from ..lang.model import (
    DONE,
    Model,
    ModelError,
    Operation,
    Step,
    Switch,
    Thread,
    VarDecl,
    validate,
)
from .program import StepRecord

MEMORY_MODELS = ("sc", "tso", "pso")
FLUSH_LINE = "(store buffer)"
FLUSH_TAG = "mem.flush:"  # + "CPU:LOCATION" on a flusher's step


def lower(model: Model, memory_model: str) -> Model:
    """The model as it runs on ``memory_model`` (``sc``: unchanged)."""
    if memory_model not in MEMORY_MODELS:
        raise ModelError(f"unknown memory model {memory_model!r}")
    if memory_model == "sc":
        return model
    validate(model)
    return _Lowering(model, memory_model).run()


def buffer_var(cpu: str, x: str, field: str) -> str:
    return f"sb.{cpu}.{x}.{field}"


@dataclass(frozen=True)
class _Buffer:
    cpu: str
    loc: str
    size: int

    def n(self) -> Shared:
        return Shared(buffer_var(self.cpu, self.loc, "n"))

    def v(self, k: int) -> Shared:
        return Shared(buffer_var(self.cpu, self.loc, f"v{k}"))

    def t(self, k: int) -> Shared:
        return Shared(buffer_var(self.cpu, self.loc, f"t{k}"))

    def names(self) -> list[str]:
        return [x.name for x in self.vars()]

    def vars(self) -> list[Shared]:
        return [self.n()] + [self.v(k) for k in range(self.size)] + [
            self.t(k) for k in range(self.size)
        ]

    def newest(self) -> Expr:
        """The newest buffered value, else memory."""
        out: Expr = Shared(self.loc)
        for k in range(self.size):
            out = ite(eq(self.n(), k + 1), self.v(k), out)
        return out


def _issued(cpu: str) -> Shared:
    return Shared(f"sb.{cpu}.issued")


def _flushed(cpu: str) -> Shared:
    return Shared(f"sb.{cpu}.flushed")


def _epoch(cpu: str) -> Shared:
    return Shared(f"sb.{cpu}.epoch")


class _Lowering:
    def __init__(self, model: Model, mm: str):
        self.model = model
        self.mm = mm
        self.buffers: dict[tuple[str, str], _Buffer] = {}
        self.cpus: list[str] = []  # CPUs that buffer stores, in order of appearance

    def run(self) -> Model:
        self._size_buffers()
        threads = [
            replace(t, ops=tuple(self._op(t, op) for op in t.ops)) for t in self.model.threads
        ]
        names = {t.name for t in threads}
        for buf in self.buffers.values():
            flusher = self._flusher(buf)
            if flusher.name in names:
                raise ModelError(f"thread name {flusher.name!r} is reserved for a store buffer")
            threads.append(flusher)
        shared = dict(self.model.shared)
        for cpu in self.cpus:
            shared[_issued(cpu).name] = VarDecl(doc=f"stores {cpu} has issued")
            shared[_flushed(cpu).name] = VarDecl(doc=f"stores of {cpu} that reached memory")
            if self.mm == "pso":
                shared[_epoch(cpu).name] = VarDecl(doc=f"smp_wmb()/release epoch of {cpu}")
        for buf in self.buffers.values():
            decl = self.model.shared[buf.loc]
            shared[buf.n().name] = VarDecl(doc=f"stores to {buf.loc} in {buf.cpu}'s buffer")
            for k in range(buf.size):
                shared[buf.v(k).name] = VarDecl(decl.init, decl.fmt, f"buffered {buf.loc}")
                shared[buf.t(k).name] = VarDecl(doc="order tag of that store")
        clash = set(shared) & set(self.model.ghosts)
        if clash:
            raise ModelError(f"variable {sorted(clash)[0]!r} is reserved for a store buffer")
        out = Model(
            self.model.name, shared, self.model.ghosts, tuple(threads),
            self.model.properties, self.model.description, (self.model, self.mm),
        )
        validate(out)
        return out

    # -- which stores are buffered, and how many at most -----------------------

    def _cpu(self, thread: Thread, step: Step) -> str:
        return step.cpu or thread.home

    def _migrated(self, thread: Thread, step: Step) -> bool:
        return bool(step.cpu) and step.cpu != thread.home

    def _direct(self, thread: Thread, step: Step) -> bool:
        """Acts on memory, not through the buffer."""
        return step.order in ("full", "relaxed") or self._migrated(thread, step)

    def _stores(self, step: Step) -> list[str]:
        return [n for n in step.writes if n in self.model.shared]

    def _size_buffers(self) -> None:
        counts: dict[tuple[str, str], int] = {}
        for thread in self.model.threads:
            looping = _steps_on_cycles(thread)
            for k, op in enumerate(thread.ops):
                for step in op.steps:
                    if self._direct(thread, step):
                        continue
                    for x in self._stores(step):
                        if (k, step.label) in looping:
                            raise ModelError(
                                f"thread {thread.name}, operation {op.name}, step "
                                f"{step.label!r}: a store inside a loop makes the store "
                                f"buffer of {x} unbounded"
                            )
                        key = (self._cpu(thread, step), x)
                        counts[key] = counts.get(key, 0) + 1
        for (cpu, x), size in counts.items():
            self.buffers[(cpu, x)] = _Buffer(cpu, x, size)
            if cpu not in self.cpus:
                self.cpus.append(cpu)

    # -- rewriting steps ---------------------------------------------------------

    def _op(self, thread: Thread, op: Operation) -> Operation:
        return replace(op, steps=tuple(self._step(thread, s) for s in op.steps))

    def _empty(self, cpu: str) -> tuple[Expr, list[str]]:
        """c's buffers are empty (and the names that reads)."""
        if cpu not in self.cpus:
            return TRUE, []
        return eq(_issued(cpu), _flushed(cpu)), [_issued(cpu).name, _flushed(cpu).name]

    def _step(self, thread: Thread, step: Step) -> Step:
        cpu = self._cpu(thread, step)
        reads = list(step.reads)
        writes = list(step.writes)
        guards: list[Expr] = []
        update: dict[Var, Expr] = {}
        note = ""
        if step.fence == "mb" or step.order == "full" or (
            step.order == "relaxed" and self.mm == "tso"
        ) or self._migrated(thread, step):
            # Waits for its CPU's buffers to drain (and the home CPU's when migrated).
            for c in dict.fromkeys((cpu, thread.home)):
                cond, names = self._empty(c)
                if names:
                    guards.append(cond)
                    reads += names
                    note = "  [waits for the store buffer to drain]"
        if step.order == "relaxed" and self.mm == "pso" and not self._migrated(thread, step):
            for x in self._stores(step):
                buf = self.buffers.get((cpu, x))
                if buf is not None:
                    guards.append(eq(buf.n(), 0))
                    reads.append(buf.n().name)
        if self.mm == "pso" and cpu in self.cpus and (
            step.fence == "wmb" or (step.order == "release" and self._stores(step))
        ):
            update[_epoch(cpu)] = _epoch(cpu) + 1
            reads.append(_epoch(cpu).name)
            writes.append(_epoch(cpu).name)
        direct = self._direct(thread, step)
        loads: dict[Var, Expr] = {}
        if not direct:
            for x in step.reads:
                buf = self.buffers.get((cpu, x))
                if buf is not None:
                    loads[Shared(x)] = buf.newest()
                    reads += buf.names()[: 1 + buf.size]  # n and the values
        guard = substitute(step.guard, loads)
        if guards:
            guard = land(*guards, guard) if guard != TRUE else land(*guards)
        # A step's buffered stores enter the buffer in the order the model declares
        # their locations (TSO: consecutive issue numbers, so they flush in that order).
        names = list(self.model.shared)
        buffered = sorted((lhs.name for lhs, _ in step.update if not direct
                           and isinstance(lhs, Shared)), key=names.index)
        for lhs, rhs in step.update:
            rhs = substitute(rhs, loads)
            buf = None if direct or not isinstance(lhs, Shared) else self.buffers[(cpu, lhs.name)]
            if buf is None:
                update[lhs] = rhs
                continue
            # Append to the buffer instead of writing memory.
            rank = buffered.index(lhs.name)
            tag = (_issued(cpu) + rank if rank else _issued(cpu)) if self.mm == "tso" else \
                update.get(_epoch(cpu), _epoch(cpu))
            n = buf.n()
            for k in range(buf.size):
                update[buf.v(k)] = ite(eq(n, k), rhs, buf.v(k))
                update[buf.t(k)] = ite(eq(n, k), tag, buf.t(k))
            update[n] = n + 1
            update[_issued(cpu)] = _issued(cpu) + len(buffered)
            writes.remove(lhs.name)
            writes += buf.names() + [_issued(cpu).name]
            reads += buf.names() + [_issued(cpu).name]
            if self.mm == "pso":
                reads.append(_epoch(cpu).name)
            note = f"  [store to {lhs.name} enters {cpu}'s store buffer]"
        nxt = step.next
        if isinstance(nxt, Switch) and loads:
            nxt = Switch(tuple((substitute(c, loads), lbl) for c, lbl in nxt.cases), nxt.default)
        touched = {n for n in reads + writes if n in self.model.shared or n.startswith("sb.")}
        # The result is a sequentially consistent step: its ordering is spent.
        return replace(
            step,
            order="plain",
            fence="",
            cpu="",
            code=step.code + note,
            reads=tuple(dict.fromkeys(reads)),
            writes=tuple(dict.fromkeys(writes)),
            guard=guard,
            update=tuple(update.items()),
            next=nxt,
            atomic=step.atomic or len(touched) > 1,
        )

    # -- the flushers ---------------------------------------------------------------

    def _flusher(self, buf: _Buffer) -> Thread:
        cpu, x = buf.cpu, buf.loc
        n = buf.n()
        reads = buf.names() + [_flushed(cpu).name]
        if self.mm == "tso":
            ready: Expr = eq(buf.t(0), _flushed(cpu))
        else:  # every store of an older epoch, to any location, has gone
            older = []
            for other in self.buffers.values():
                if other.cpu == cpu and other is not buf:
                    older.append(lor(eq(other.n(), 0), ge(other.t(0), buf.t(0))))
                    reads += [other.n().name, other.t(0).name]
            ready = land(*older) if older else TRUE
        update: dict[Var, Expr] = {Shared(x): buf.v(0)}
        for k in range(buf.size):
            update[buf.v(k)] = buf.v(k + 1) if k + 1 < buf.size else Const(0)
            update[buf.t(k)] = buf.t(k + 1) if k + 1 < buf.size else Const(0)
        update[n] = n - 1
        update[_flushed(cpu)] = _flushed(cpu) + 1
        step = Step(
            label="flush",
            line=FLUSH_LINE,
            code=f"{x} = oldest store to {x} in {cpu}'s store buffer  /* reaches memory */",
            reads=tuple(dict.fromkeys(reads)),
            writes=tuple([x] + buf.names() + [_flushed(cpu).name]),
            guard=land(gt(n, 0), ready),
            update=tuple(update.items()),
            next="flush",
            atomic=True,
            tags=(f"{FLUSH_TAG}{cpu}:{x}",),
        )
        op = Operation("flush", f"{x} from {cpu}'s store buffer", "flush", (step,), {})
        # It flushes at most as many stores as can enter the buffer.
        return Thread(f"flush.{cpu}.{x}", (op,), cpu=cpu, daemon=True, bound=buf.size)


def _steps_on_cycles(thread: Thread) -> set[tuple[int, str]]:
    """(operation index, label) of the steps of ``thread`` that lie on a loop."""
    succ: dict[tuple[int, str], list[tuple[int, str]]] = {}
    for k, op in enumerate(thread.ops):
        for step in op.steps:
            targets = step.next.labels() if isinstance(step.next, Switch) else [step.next]
            out = succ.setdefault((k, step.label), [])
            for label in targets:
                if label != DONE:
                    out.append((k, label))
                elif k + 1 < len(thread.ops):
                    out.append((k + 1, thread.ops[k + 1].entry))
    on_loop = set()
    for node in succ:  # a node is on a loop when it can reach itself (graphs are small)
        seen: set[tuple[int, str]] = set()
        todo = list(succ[node])
        while todo:
            x = todo.pop()
            if x == node:
                on_loop.add(node)
                break
            if x not in seen:
                seen.add(x)
                todo.extend(succ.get(x, ()))
    return on_loop


def buffer_field(name: str) -> tuple[str, str, str] | None:
    """``sb.CPU.LOC.FIELD`` (a variable of a store buffer) as (CPU, LOC, FIELD);
    None for any other variable. CPU names are thread names (no dots)."""
    parts = name.split(".")
    if parts[0] != "sb" or len(parts) < 4:
        return None
    return parts[1], ".".join(parts[2:-1]), parts[-1]


BOOKKEEPING = ("issued", "flushed", "epoch")  # per CPU: sb.CPU.FIELD


def bookkeeping(name: str) -> bool:
    """A variable the lowering adds (a buffer's fields, a CPU's store counts and
    epoch): how the machine is simulated, not what the kernel code reads or writes."""
    if buffer_field(name) is not None:
        return True
    parts = name.split(".")
    return len(parts) == 3 and parts[0] == "sb" and parts[2] in BOOKKEEPING


def pending_stores(names: list[str], state: list[int]) -> list[tuple[str, str, int]]:
    """(location, CPU, count) of every non-empty store buffer in ``state``."""
    out = []
    for name, value in zip(names, state, strict=True):
        f = buffer_field(name)
        if f is not None and f[2] == "n" and value:
            out.append((f[1], f[0], int(value)))
    return out


def fold_buffers(record: StepRecord) -> StepRecord:
    """A step as a reader of the kernel code sees it: a load names the value it
    got and whether it came from its own store buffer, a buffered store names
    its location and value; the buffers' bookkeeping is left out (and kept,
    structured, in ``buffered`` and ``forwarded``)."""
    if not any(k.startswith("sb.") for k, _ in record.reads + record.writes):
        return record
    rbuf, wbuf = _newest(record.reads), _newest(record.writes)
    reads = []
    for k, v in record.reads:
        if k in rbuf:
            v = f"{rbuf[k][1]} (own store buffer)"
        if buffer_field(k) is None:
            reads.append((k, v))
    written = {k for k, _ in record.writes}
    writes = [(k, v) for k, v in record.writes if buffer_field(k) is None]
    buffered = tuple((x, cpu, v) for x, (cpu, v) in wbuf.items() if x not in written)
    writes += [(x, f"{v} (buffered on {cpu}, not yet visible to other CPUs)")
               for x, cpu, v in buffered]
    return replace(record, reads=tuple(reads), writes=tuple(writes), buffered=buffered,
                   forwarded=tuple(rbuf))


def _newest(pairs: tuple[tuple[str, str], ...]) -> dict[str, tuple[str, str]]:
    """{LOC: (CPU, newest buffered value)} for every non-empty buffer among ``pairs``."""
    fields: dict[str, tuple[str, dict[str, str]]] = {}
    for k, v in pairs:
        f = buffer_field(k)
        if f is not None:
            fields.setdefault(f[1], (f[0], {}))[1][f[2]] = v
    return {loc: (cpu, f.get(f"v{int(f['n']) - 1}", "?"))
            for loc, (cpu, f) in fields.items() if f.get("n", "0") != "0"}


def stale_reads(trace: list[StepRecord]) -> list[str]:
    """Loads that missed a store still in another CPU's buffer, as sentences
    (from records that went through fold_buffers). A load on the storing CPU
    reads its own buffer, so only other CPUs can read stale. This is the
    weak-memory part of a counterexample: under SC there is none."""
    pending: dict[tuple[str, str], list[tuple[int, str]]] = {}  # (cpu, loc) -> [(step, value)]
    out = []
    for i, rec in enumerate(trace, 1):
        for loc, value in rec.reads:
            if loc in rec.forwarded:
                continue
            for (cpu, x), stores in pending.items():
                out += [f"step {i}: {rec.thread_name} read {loc}={value} while {cpu}'s store "
                        f"of {stored} (step {step}) was still in its store buffer"
                        for step, stored in stores if x == loc]
        for loc, cpu, value in rec.buffered:
            pending.setdefault((cpu, loc), []).append((i, value))
        for tag in rec.tags:
            if tag.startswith(FLUSH_TAG):  # the oldest store of that buffer is visible now
                cpu, _, loc = tag[len(FLUSH_TAG):].partition(":")
                if pending.get((cpu, loc)):
                    pending[(cpu, loc)].pop(0)
    return out
