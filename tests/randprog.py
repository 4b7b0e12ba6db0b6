"""Random small programs in the model language, for cross-checking the search strategies.

One generator serves two front ends: ``programs()``, a hypothesis strategy
(its draws shrink: fewer threads, fewer steps, simpler kinds), and
``random_program(rng)`` for the soak run (explorer/tools/soak.py), which needs no
hypothesis. Both call ``generate`` with a different source of choices.

A program is first drawn as a ``Spec``: a printable description (``str(spec)``
reads like pseudo-C, ``repr(spec)`` is a Python expression that rebuilds it),
then turned into a ``Model`` by ``spec.model()``. Each thread is one operation
with one register ``r``; every step touches exactly one shared location, so
every step is an event. Step kinds:

- ``load x``:          r = x
- ``store x c``:       x = c
- ``storer x``:        x = r
- ``inc x``:           x = x + 1
- ``xchg x c``:        r = x; x = c         (one atomic step)
- ``cas x a b``:       r = x; if x == a: x = b
- ``skip x c``:        if x == c, skip the next step (data-dependent control flow)
- ``wait x c``:        block until x == c   (may never happen: deadlock)
- ``lock`` / ``unlock``: the one lock ``l``; acquire is ``guard l == 0; l = 1``

A thread takes the lock at most once and always releases it later.

Weak-memory programs (``generate(..., weak=True)``, ``programs(weak=True)``,
for explorer/compile/lowering.py and its reference tests/memref.py) draw from another
table of kinds, without blocking steps, and give every read-modify-write an
explicit ``order``: "plain" (this_cpu_*: a buffered store), "relaxed"
(atomic_inc(), xchg_relaxed(), cmpxchg_relaxed()) or "full" (atomic_inc_return(),
xchg(), cmpxchg()). Their extra kinds:

- ``mb`` / ``wmb`` / ``rmb``: smp_mb(), smp_wmb(), smp_rmb()
- ``rel x c``:         smp_store_release(&x, c)
- ``acq x``:           r = smp_load_acquire(&x)

The default stream of programs does not change: existing kinds keep order
"" (the model's "plain") and the weak table is drawn from only when asked.
``spec.model(registers=True)`` records each thread's register in a ghost
``r.tN``: locals are reset when an operation returns, so this is how a final
state shows what each thread read. The ghost keeps the register's whole
history, one base-16 digit per assignment (``r.tN = r.tN * 16 + value``;
values stay below 16), so a thread's two loads (message passing) are both
visible; its last digit is ``r``. Ghosts are instrumentation: written when
the step runs, never buffered, and only by their own thread, so they add no
dependency between threads.

The brute-force census (explorer.search.oracle) enumerates every interleaving, so
programs are kept small: at most ``MAX_STEPS`` steps in all and at most
``MAX_INTERLEAVINGS`` interleavings of the threads' step sequences.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from math import factorial
from typing import Any

from hypothesis import strategies as st

from explorer.compile.program import Program
from explorer.lang.builder import OpBuilder
from explorer.lang.expr import BinOp, Const, Expr, Ghost, Local, Shared, eq, ite
from explorer.lang.model import DONE, Model, Operation, Property, Thread, VarDecl, branch
from explorer.search.budget import Budget
from explorer.search.dfs import explore
from explorer.search.dpor import Outcomes, explore_dpor
from explorer.search.oracle import census
from explorer.search.result import HOLDS, VIOLATED, Result

MAX_THREADS = 4
MAX_THREAD_STEPS = 5
MAX_STEPS = 9
MAX_INTERLEAVINGS = 2520  # 9! / (3! 3! 3!) = 1680; (2,2,2,3) = 7560 is too many
VARS = ("x", "y", "z")
LOCK = "l"
MAX_CONST = 2

# Data step kinds, simplest first (hypothesis shrinks towards index 0).
DATA_KINDS = ("store", "load", "inc", "storer", "wait", "xchg", "cas", "skip")
PROP_OPS = ("==", "!=", "<=", "sum==")

# Weak-memory programs: kinds (simplest first), RMW orders, and smaller bounds,
# since every buffered store adds a flush event under TSO and PSO.
WEAK_KINDS = ("store", "load", "mb", "inc", "storer", "rel", "acq", "xchg", "cas",
              "wmb", "skip", "rmb")
FENCE_KINDS = ("mb", "wmb", "rmb")
RMW_KINDS = ("inc", "xchg", "cas")
RMW_ORDERS = ("plain", "full", "relaxed")
WEAK_MAX_THREADS = 3
WEAK_MAX_THREAD_STEPS = 4
WEAK_MAX_STEPS = 8
# Bound on the interleavings of the lowered program, flush events included.
WEAK_MAX_INTERLEAVINGS = 6000


@dataclass(frozen=True)
class Op:
    """One step of a thread (see the module docstring for the kinds)."""

    kind: str
    var: str = ""
    a: int = 0
    b: int = 0
    order: str = ""  # RMWs of weak programs: plain | relaxed | full ("": plain, SC programs)

    def __str__(self) -> str:
        k, x, a, b = self.kind, self.var, self.a, self.b
        if self.order:
            return _WEAK_RMW_TEXT[(k, self.order)].format(x=x, a=a, b=b)
        return {
            "load": f"r = {x}",
            "store": f"{x} = {a}",
            "storer": f"{x} = r",
            "inc": f"{x}++",
            "xchg": f"r = xchg({x}, {a})",
            "cas": f"r = cas({x}, {a}, {b})",
            "skip": f"if ({x} == {a}) skip",
            "wait": f"wait({x} == {a})",
            "lock": "lock",
            "unlock": "unlock",
            "mb": "smp_mb()",
            "wmb": "smp_wmb()",
            "rmb": "smp_rmb()",
            "rel": f"smp_store_release({x}, {a})",
            "acq": f"r = smp_load_acquire({x})",
        }[k]

    @property
    def buffered_store(self) -> bool:
        """Whether TSO and PSO put its store in the store buffer (one flush event)."""
        return self.kind in ("store", "storer", "rel", "unlock") or (
            self.kind in RMW_KINDS and self.order in ("", "plain")
        )


_WEAK_RMW_TEXT = {
    ("inc", "plain"): "this_cpu_inc({x})",
    ("inc", "relaxed"): "atomic_inc({x})",
    ("inc", "full"): "atomic_inc_return({x})",
    ("xchg", "plain"): "r = this_cpu_xchg({x}, {a})",
    ("xchg", "relaxed"): "r = xchg_relaxed({x}, {a})",
    ("xchg", "full"): "r = xchg({x}, {a})",
    ("cas", "plain"): "r = this_cpu_cmpxchg({x}, {a}, {b})",
    ("cas", "relaxed"): "r = cmpxchg_relaxed({x}, {a}, {b})",
    ("cas", "full"): "r = cmpxchg({x}, {a}, {b})",
    ("lock", "full"): "lock",  # on these machines a lock is a full RMW
    ("unlock", "release"): "unlock",  # ... and an unlock a release store
}


@dataclass(frozen=True)
class Prop:
    """A final property over shared variables: ``var op const`` or ``var + var2 == const``."""

    op: str
    var: str
    const: int
    var2: str = ""

    def __str__(self) -> str:
        if self.op == "sum==":
            return f"{self.var} + {self.var2} == {self.const}"
        return f"{self.var} {self.op} {self.const}"

    def expr(self) -> Expr:
        x = Shared(self.var)
        if self.op == "sum==":
            return eq(x + Shared(self.var2), self.const)
        return BinOp(self.op, x, Const(self.const))


@dataclass(frozen=True)
class Spec:
    """A random program, before it becomes a Model."""

    init: tuple[int, ...]  # initial values of x, y, z (as many as used)
    threads: tuple[tuple[Op, ...], ...]
    prop: Prop | None = None

    @property
    def uses_lock(self) -> bool:
        return any(op.kind == "lock" for ops in self.threads for op in ops)

    @property
    def steps(self) -> int:
        return sum(len(ops) for ops in self.threads)

    def __str__(self) -> str:
        vs = ", ".join(f"{v}={i}" for v, i in zip(VARS, self.init, strict=False))
        lines = [f"init {vs}" + (f", {LOCK}=0" if self.uses_lock else "")]
        for n, ops in enumerate(self.threads):
            lines.append(f"t{n}: " + "; ".join(str(op) for op in ops))
        if self.prop is not None:
            lines.append(f"final: {self.prop}")
        return "\n".join(lines)

    def model(self, name: str = "random", registers: bool = False) -> Model:
        """The program as a model; ``registers`` mirrors each ``r`` into a ghost ``r.tN``."""
        shared = {v: VarDecl(i) for v, i in zip(VARS, self.init, strict=False)}
        if self.uses_lock:
            shared[LOCK] = VarDecl(0)
        threads = tuple(
            Thread(f"t{n}", (_operation(f"t{n}", ops, registers),))
            for n, ops in enumerate(self.threads)
        )
        ghosts = {register(n): VarDecl(0) for n in range(len(self.threads))} if registers else {}
        props: tuple[Property, ...] = ()
        if self.prop is not None:
            props = (Property("prop", str(self.prop), self.prop.expr(), kind="final"),)
        return Model(name, shared, ghosts, threads, props, description=str(self))


def register(thread: int) -> str:
    """The ghost with thread ``thread``'s register history (``Spec.model(registers=True)``)."""
    return f"r.t{thread}"


REGISTER_BASE = 16  # one digit of a register history (see the module docstring)


class _Builder(OpBuilder):
    """An OpBuilder that appends every assignment to the register to its ghost history."""

    def __init__(self, name: str, ghost: str):
        super().__init__(name)
        self.ghost = ghost

    def add(self, label: str, line: str, code: str, **fields: Any) -> str:
        update = dict(fields.pop("update", None) or {})
        reads = list(fields.pop("reads", ()))
        writes = list(fields.pop("writes", ()))
        if self.ghost and Local("r") in update:
            g = Ghost(self.ghost)
            update[g] = g * REGISTER_BASE + update[Local("r")]
            reads.append(self.ghost)
            writes.append(self.ghost)
        return super().add(label, line, code, update=update, reads=reads, writes=writes,
                           **fields)


def _operation(name: str, ops: tuple[Op, ...], registers: bool = False) -> Operation:
    b = _Builder(name, f"r.{name}" if registers else "")
    r = b.local("r")
    labels = [f"s{k}" for k in range(len(ops))] + [DONE]
    for k, op in enumerate(ops):
        label, nxt = labels[k], labels[k + 1]
        line, code = f"rand.c:{k}", str(op)
        if op.kind == "lock":
            lk = Shared(LOCK)
            b.add(label, line, code, reads=[LOCK], writes=[LOCK], guard=eq(lk, 0),
                  update={lk: 1}, next=nxt, waits_for="the lock", order=op.order or "plain")
            continue
        if op.kind == "unlock":
            b.add(label, line, code, writes=[LOCK], update={Shared(LOCK): 0}, next=nxt,
                  order=op.order or "plain")
            continue
        if op.kind in FENCE_KINDS:
            b.add(label, line, code, fence=op.kind, next=nxt)
            continue
        x = Shared(op.var)
        order = op.order or "plain"
        rw = {"reads": [op.var], "writes": [op.var], "order": order}
        if op.kind == "rel":
            b.add(label, line, code, writes=[op.var], update={x: op.a}, order="release",
                  next=nxt)
        elif op.kind == "acq":
            b.add(label, line, code, reads=[op.var], update={r: x}, order="acquire", next=nxt)
        elif op.kind == "load":
            b.add(label, line, code, reads=[op.var], update={r: x}, next=nxt)
        elif op.kind == "store":
            b.add(label, line, code, writes=[op.var], update={x: op.a}, next=nxt)
        elif op.kind == "storer":
            b.add(label, line, code, writes=[op.var], update={x: r}, next=nxt)
        elif op.kind == "inc":
            b.add(label, line, code, **rw, update={x: x + 1}, next=nxt)
        elif op.kind == "xchg":
            b.add(label, line, code, **rw, update={x: op.a, r: x}, next=nxt)
        elif op.kind == "cas":
            b.add(label, line, code, **rw, update={x: ite(eq(x, op.a), op.b, x), r: x}, next=nxt)
        elif op.kind == "skip":
            # Jumps over the next step when x == a (the generator never puts a
            # lock step right after a skip, so lock pairing is kept).
            after = labels[k + 2] if k + 2 < len(labels) else DONE
            b.add(label, line, code, reads=[op.var], next=branch(eq(x, op.a), after, nxt))
        elif op.kind == "wait":
            b.add(label, line, code, reads=[op.var], guard=eq(x, op.a), next=nxt,
                  waits_for=f"{op.var} == {op.a}")
        else:
            raise ValueError(f"unknown step kind {op.kind!r}")
    return b.build()


# -- generation ------------------------------------------------------------------

Draw = Callable[[int, int], int]
"""draw(lo, hi): an integer in [lo, hi]; smaller values are 'simpler'."""


def interleavings(lengths: list[int]) -> int:
    """How many ways the threads' step sequences can be interleaved (blocking ignored)."""
    out = factorial(sum(lengths))
    for n in lengths:
        out //= factorial(n)
    return out


def generate(draw: Draw, *, max_steps: int | None = None,
             max_interleavings: int | None = None, guards: bool | None = None,
             weak: bool = False) -> Spec:
    """A random program; ``guards=False`` leaves out every blocking step (wait, lock).
    ``weak=True`` draws a weak-memory program (see the module docstring), whose
    bounds default to the WEAK_ ones and which has blocking steps only when
    ``guards=True``."""
    if weak:
        return _generate_weak(draw, max_steps or WEAK_MAX_STEPS,
                              max_interleavings or WEAK_MAX_INTERLEAVINGS, bool(guards))
    guards = guards is None or guards
    max_steps = max_steps or MAX_STEPS
    max_interleavings = max_interleavings or MAX_INTERLEAVINGS
    kinds_allowed = DATA_KINDS if guards else tuple(k for k in DATA_KINDS if k != "wait")
    nthreads = draw(2, MAX_THREADS)
    nvars = draw(1, len(VARS))
    init = tuple(draw(0, 1) for _ in range(nvars))
    names = VARS[:nvars]
    # Step counts: at least one per thread, max_steps in all, few interleavings.
    lengths: list[int] = []
    for n in range(nthreads):
        room = max_steps - sum(lengths) - (nthreads - n - 1)
        lengths.append(draw(1, max(1, min(MAX_THREAD_STEPS, room))))
    while interleavings(lengths) > max_interleavings:
        lengths[lengths.index(max(lengths))] -= 1
    use_lock = guards and draw(0, 2) == 2  # one program in three has a lock
    threads = []
    for length in lengths:
        kinds: list[str | None] = [None] * length
        if use_lock and length >= 2 and draw(0, 1):
            acquire = draw(0, length - 2)
            release = draw(acquire + 1, length - 1)
            kinds[acquire], kinds[release] = "lock", "unlock"
        ops = []
        for k in range(length):
            kind = kinds[k]
            if kind is not None:
                ops.append(Op(kind))
                continue
            choices = kinds_allowed
            if k + 1 < length and kinds[k + 1] is not None:
                choices = tuple(c for c in kinds_allowed if c != "skip")
            kind = choices[draw(0, len(choices) - 1)]
            var = names[draw(0, nvars - 1)]
            a = draw(0, MAX_CONST)
            b = draw(0, MAX_CONST) if kind == "cas" else 0
            if kind not in ("store", "xchg", "cas", "skip", "wait"):
                a = 0
            ops.append(Op(kind, var, a, b))
        threads.append(tuple(ops))
    return Spec(init, tuple(threads), _draw_prop(draw, names))


def _draw_prop(draw: Draw, names: tuple[str, ...]) -> Prop | None:
    if not draw(0, 2):  # two programs in three have a final property
        return None
    op = PROP_OPS[draw(0, len(PROP_OPS) - 1)]
    var = names[draw(0, len(names) - 1)]
    var2 = names[draw(0, len(names) - 1)] if op == "sum==" else ""
    return Prop(op, var, draw(0, MAX_CONST + 1), var2)


def lowered_interleavings(threads: tuple[tuple[Op, ...], ...] | list[list[Op]]) -> int:
    """A bound on the interleavings of the program lowered to TSO or PSO: each
    (thread, location) store buffer adds a flusher thread with one event per
    buffered store (blocking and the flushes' ordering ignored)."""
    lengths = [len(ops) for ops in threads]
    for ops in threads:
        per_var: dict[str, int] = {}
        for op in ops:
            if op.buffered_store:
                per_var[op.var] = per_var.get(op.var, 0) + 1
        lengths += per_var.values()
    return interleavings(lengths)


def _generate_weak(draw: Draw, max_steps: int, max_interleavings: int, guards: bool) -> Spec:
    """A weak-memory program: WEAK_KINDS, one CPU per thread; with ``guards``,
    waits and the lock too (taken by a "full" RMW, released by a release store)."""
    kinds_allowed = WEAK_KINDS + (("wait",) if guards else ())
    nthreads = draw(2, WEAK_MAX_THREADS)
    nvars = (2, 1, 3)[draw(0, 2)]  # reordering needs two locations: shrink to two
    init = tuple(draw(0, 1) for _ in range(nvars))
    names = VARS[:nvars]
    lengths: list[int] = []
    for n in range(nthreads):
        room = max_steps - sum(lengths) - (nthreads - n - 1)
        lengths.append(draw(1, max(1, min(WEAK_MAX_THREAD_STEPS, room))))
    use_lock = guards and draw(0, 2) == 2
    threads: list[list[Op]] = []
    for length in lengths:
        fixed: list[Op | None] = [None] * length
        if use_lock and length >= 2 and draw(0, 1):
            acquire = draw(0, length - 2)
            release = draw(acquire + 1, length - 1)
            fixed[acquire], fixed[release] = Op("lock", order="full"), Op("unlock", order="release")
        ops = []
        for k in range(length):
            op = fixed[k]
            if op is not None:
                ops.append(op)
                continue
            choices = kinds_allowed
            if k + 1 < length and fixed[k + 1] is not None:  # keeps lock pairing
                choices = tuple(c for c in kinds_allowed if c != "skip")
            kind = choices[draw(0, len(choices) - 1)]
            if kind in FENCE_KINDS:
                ops.append(Op(kind))
                continue
            var = names[draw(0, nvars - 1)]
            a = draw(0, MAX_CONST) if kind in ("store", "rel", "xchg", "cas", "skip",
                                               "wait") else 0
            b = draw(0, MAX_CONST) if kind == "cas" else 0
            order = RMW_ORDERS[draw(0, len(RMW_ORDERS) - 1)] if kind in RMW_KINDS else ""
            ops.append(Op(kind, var, a, b, order))
        threads.append(ops)
    # Too many interleavings once flushes count: drop the last step of the
    # longest thread (a function of the draws, so shrinking still works).
    while lowered_interleavings(threads) > max_interleavings:
        longest = max(threads, key=len)
        if len(longest) == 1:
            break
        if longest.pop().kind == "unlock":  # the lock goes with it
            longest[:] = [op for op in longest if op.kind != "lock"] or [Op("load", "x")]
    return Spec(init, tuple(tuple(ops) for ops in threads), _draw_prop(draw, names))


def random_program(rng: random.Random, **options: Any) -> Spec:
    """A random program drawn with ``rng``: the shapes of ``programs`` (``generate`` options)."""
    return generate(rng.randint, **options)


@st.composite
def programs(draw: st.DrawFn, **options: Any) -> Spec:
    """Hypothesis strategy for ``Spec``s; each integer is its own draw, so examples shrink.
    ``programs(weak=True)``: weak-memory programs (``generate`` options)."""
    return generate(lambda lo, hi: draw(st.integers(lo, hi)), **options)


# -- the cross-check ---------------------------------------------------------------

# What `compare` checks; a mismatch is reported under one of these names.
CHECKS = (
    "optimal-count",  # optimal explores exactly one execution per Mazurkiewicz class
    "optimal-sleep-blocked",  # ... and no run ends blocked by its sleep set
    "optimal-outcomes",  # ... and reaches exactly the census's finals, deadlocks, violations
    "optimal-verdict",  # ... and, stopping at the first violation, finds one iff there is one
    "dpor-count",  # source-set DPOR explores at least one execution per class
    "dpor-outcomes",
    "dpor-verdict",
    "naive",  # naive DFS: verdict, and when it holds, the number of schedules
    "stateful",  # stateful DFS: the same
    "error",  # a strategy crashed or reported a model error
)


@dataclass
class Comparison:
    """Every strategy on one program against the brute-force census."""

    classes: int = 0  # Mazurkiewicz classes (census)
    schedules: int = 0  # every complete schedule (census; what naive enumerates)
    optimal: int = 0  # executions explored by optimal DPOR
    optimal_sleep_blocked: int = 0
    dpor: int = 0  # executions explored by source-set DPOR
    dpor_sleep_blocked: int = 0
    naive: int = 0  # naive DFS's schedule count (complete only when the program holds)
    violated: bool = False  # the census reaches a deadlock or a failing final property
    mismatches: list[tuple[str, str]] = field(default_factory=list)  # (check, message)

    def failed(self, *checks: str) -> list[str]:
        """Messages of the given checks that failed (all checks when none given)."""
        return [m for c, m in self.mismatches if not checks or c in checks]


def _outcome_diff(got: Outcomes, want: Outcomes) -> str:
    parts = []
    for name in ("finals", "deadlocks", "violations"):
        g, w = getattr(got, name), getattr(want, name)
        if g != w:
            parts.append(f"{name}: missing {sorted(w - g)}, extra {sorted(g - w)}")
    return "; ".join(parts)


def compare(spec: Spec | Model) -> Comparison:
    """Runs census, optimal and source-set DPOR (collect mode and stopping at the first
    violation), naive and stateful DFS on one program and records every disagreement."""
    model = spec.model() if isinstance(spec, Spec) else spec
    program = Program(model)
    cen = census(program)
    out = Comparison(classes=len(cen.classes), schedules=cen.executions)
    want = cen.outcomes
    out.violated = bool(want.violations)
    bad = out.mismatches.append
    for optimal in (True, False):
        name = "optimal" if optimal else "dpor"
        got = Outcomes()
        r = explore_dpor(program, optimal=optimal, budget=Budget(), outcomes=got)
        if r.verdict != HOLDS:
            bad(("error", f"{name} (collect mode): {r.verdict} {r.reason}"))
        execs = r.stats.executions
        if optimal:
            out.optimal, out.optimal_sleep_blocked = execs, r.stats.sleep_blocked
            if execs != out.classes:
                bad(("optimal-count", f"optimal ran {execs} executions for {out.classes} classes"))
            if r.stats.sleep_blocked:
                bad(("optimal-sleep-blocked", f"optimal: {r.stats.sleep_blocked} sleep-blocked"))
        else:
            out.dpor, out.dpor_sleep_blocked = execs, r.stats.sleep_blocked
            if execs < out.classes:
                bad(("dpor-count", f"dpor ran {execs} executions for {out.classes} classes"))
        if got != want:
            bad((f"{name}-outcomes", f"{name}: {_outcome_diff(got, want)}"))
        # Without collect mode the search stops at the first violation.
        r = explore_dpor(program, optimal=optimal, budget=Budget())
        problem = _verdict_problem(r, want)
        if problem:
            bad((f"{name}-verdict", f"{name}: {problem}"))
    for cache in (False, True):
        name = "stateful" if cache else "naive"
        r = explore(program, cache=cache, budget=Budget())
        if not cache:
            out.naive = r.stats.schedules
        problem = _verdict_problem(r, want)
        if not problem and r.verdict == HOLDS and r.stats.schedules != cen.executions:
            problem = f"counted {r.stats.schedules} schedules, census has {cen.executions}"
        if problem:
            bad((name, f"{name}: {problem}"))
    return out


def _verdict_problem(r: Result, want: Outcomes) -> str:
    if r.verdict not in (HOLDS, VIOLATED):
        return f"{r.verdict}: {r.reason}"
    if r.verdict == HOLDS and want.violations:
        return f"holds, but the census violates {sorted(want.violations)}"
    if r.verdict == VIOLATED:
        assert r.failure is not None
        if r.failure.name not in want.violations:
            return f"violates {r.failure.name!r}, which the census never does"
    return ""
