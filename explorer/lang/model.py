"""The model language: threads run operations; operations are step-wise state machines.

A step is one atomic action. It declares the shared and ghost locations it
reads and writes (the explorer's dependency relation comes from these
declarations), has a guard (a step whose guard is false blocks its thread:
that is how waiting is modelled), an update (simultaneous assignments whose
right-hand sides are evaluated in the state before the step), the label of
the next step (evaluated after the update), and the kernel source line it
stands for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .expr import MASK, TRUE, Expr, Ghost, Local, Shared, Var, lift, variables

DONE = "<return>"
"""The label an operation jumps to when it returns."""

# How a step's shared access is ordered (Step.order). Under SC they are all the
# same; explorer/compile/lowering.py gives them their meaning under TSO and PSO.
ORDERS = ("plain", "once", "acquire", "release", "relaxed", "full")
# plain, once    C access / READ_ONCE / WRITE_ONCE; a step that reads and writes
#                one location with these is a load and a store done at once
#                (this_cpu_inc(): atomic only against its own CPU)
# acquire        smp_load_acquire()       (a load)
# release        smp_store_release()      (a store)
# relaxed        atomic_*_relaxed(), atomic_inc(): an atomic RMW, unordered
# full           a fully ordered access: xchg(), cmpxchg(), atomic_*_return(),
#                and primitives (the abstract SRCU) that imply smp_mb()
FENCES = ("mb", "rmb", "wmb")  # smp_mb(), smp_rmb(), smp_wmb()


class ModelError(Exception):
    """A model is malformed (caught on load) or misbehaves (caught while exploring)."""


@dataclass(frozen=True)
class VarDecl:
    """A variable: initial value, how to print it, and what it means."""

    init: int = 0
    fmt: str = "dec"  # dec | hex | signed | bool
    doc: str = ""
    # A symbolic input (explorer/smt): the initial value is any u64 in [low, high],
    # named by the parameter it stands for. Only `explorer prove` runs such models.
    symbolic: str = ""
    low: int = 0
    high: int = MASK

    def __post_init__(self) -> None:
        if self.fmt not in ("dec", "hex", "signed", "bool"):
            raise ModelError(f"unknown variable format {self.fmt!r}")
        object.__setattr__(self, "init", self.init & MASK)  # C's u64: -1 is 2**64-1


@dataclass(frozen=True)
class Switch:
    """Conditional next label: the first case whose condition holds, else the default."""

    cases: tuple[tuple[Expr, str], ...]
    default: str

    def labels(self) -> list[str]:
        return [label for _, label in self.cases] + [self.default]


def branch(cond: Expr, then: str, other: str) -> Switch:
    return Switch(((cond, then),), other)


Next = str | Switch


@dataclass(frozen=True)
class Choice:
    """A nondeterministic choice: the explorer tries every value for ``local``."""

    local: str
    values: tuple[int, ...]
    names: tuple[str, ...] = ()  # how to print each value in traces

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", tuple(v & MASK for v in self.values))


@dataclass(frozen=True)
class Step:
    label: str
    line: str  # "virt/kvm/guest_memfd.c:111", the kernel source line this step stands for
    code: str  # the C text of that line (or a short paraphrase when folded)
    reads: tuple[str, ...] = ()  # shared and ghost locations read
    writes: tuple[str, ...] = ()  # shared and ghost locations written
    guard: Expr = TRUE
    update: tuple[tuple[Var, Expr], ...] = ()
    next: Next = DONE
    choose: Choice | None = None
    atomic: bool = False  # a primitive that may touch several shared locations at once
    waits_for: str = ""  # what a false guard means, for deadlock reports
    # What the step is, for reports and graphs, e.g. ("srcu.lock:srcu",): the
    # engine never interprets tags, exporters may.
    tags: tuple[str, ...] = ()
    order: str = "plain"  # how its shared access is ordered (ORDERS)
    fence: str = ""  # "" or one of FENCES: then the step accesses no shared location
    cpu: str = ""  # the CPU it runs on when not its thread's (a migrated task)
    # The retry of a loop that only reads (a scan that failed): never taken, see
    # Program.cut_off and explorer/lang/retry.py (which checks the loop when loaded).
    retry: bool = False

    @property
    def is_local(self) -> bool:
        """Touches no shared or ghost location and makes no choice: commutes with everything."""
        return not self.reads and not self.writes and self.choose is None


@dataclass(frozen=True)
class Operation:
    name: str  # e.g. "get_folio"
    args: str  # e.g. "inode 0, page 1", for traces
    entry: str
    steps: tuple[Step, ...]
    locals: Mapping[str, VarDecl] = field(default_factory=dict)

    def step(self, label: str) -> Step:
        for s in self.steps:
            if s.label == label:
                return s
        raise KeyError(label)


@dataclass(frozen=True)
class Thread:
    name: str
    ops: tuple[Operation, ...]
    cpu: str = ""  # the CPU whose store buffer its stores enter ("": its own name)
    # A daemon never returns: it is not waited for at the end of a run and is
    # never reported as blocked (the store-buffer flushers of explorer/compile/lowering.py).
    daemon: bool = False
    bound: int = 0  # a daemon's most steps in one run, when known (0: unknown)

    @property
    def home(self) -> str:
        return self.cpu or self.name


@dataclass(frozen=True)
class Property:
    """A named condition over shared and ghost state.

    ``invariant`` properties must hold in every reachable state, ``final``
    ones in every state where all threads have returned. A ``sticky``
    invariant, once false, stays false (it reads ghost flags that are only
    ever set): whether it fails is then decided by the order of conflicting
    steps alone, and partial-order reduction need not order the steps that
    write what it reads.
    """

    name: str
    description: str
    expr: Expr
    kind: str = "invariant"
    sticky: bool = False

    def __post_init__(self) -> None:
        if self.kind not in ("invariant", "final"):
            raise ModelError(f"property {self.name}: unknown kind {self.kind!r}")


@dataclass(frozen=True)
class Model:
    name: str
    shared: Mapping[str, VarDecl]
    ghosts: Mapping[str, VarDecl]
    threads: tuple[Thread, ...]
    properties: tuple[Property, ...] = ()
    description: str = ""
    # The model and memory model this one is the store-buffer form of
    # (explorer/compile/lowering.py): the graph strategy checks the original
    # under a consistency predicate instead.
    lowered: tuple[Model, str] | None = field(default=None, compare=False, repr=False)

    def with_properties(self, props: tuple[Property, ...]) -> Model:
        return Model(self.name, self.shared, self.ghosts, self.threads, props, self.description)


def _where(thread: Thread, op: Operation, step: Step | None = None) -> str:
    at = f"thread {thread.name}, operation {op.name}"
    return f"{at}, step {step.label!r}" if step else at


def _check_expr(
    model: Model, op: Operation, expr: Expr, step: Step, where: str, what: str
) -> tuple[set[str], set[str]]:
    """Returns the (shared, ghost) names ``expr`` reads, after checking they exist."""
    shared: set[str] = set()
    ghost: set[str] = set()
    for v in variables(expr):
        if isinstance(v, Shared):
            if v.name not in model.shared:
                raise ModelError(f"{where}: {what} reads undeclared shared variable {v.name!r}")
            shared.add(v.name)
        elif isinstance(v, Ghost):
            if v.name not in model.ghosts:
                raise ModelError(f"{where}: {what} reads undeclared ghost variable {v.name!r}")
            ghost.add(v.name)
        elif isinstance(v, Local) and v.name not in op.locals:
            raise ModelError(f"{where}: {what} uses undeclared local {v.name!r}")
    return shared, ghost


def validate(model: Model) -> None:
    """Rejects malformed models with a message naming the thread, operation and step."""
    if not model.threads:
        raise ModelError(f"model {model.name}: no threads")
    clash = set(model.shared) & set(model.ghosts)
    if clash:
        raise ModelError(f"model {model.name}: {sorted(clash)[0]!r} is both shared and ghost")
    names = [t.name for t in model.threads]
    if len(set(names)) != len(names):
        raise ModelError(f"model {model.name}: duplicate thread names")
    for thread in model.threads:
        if not thread.ops:
            raise ModelError(f"thread {thread.name}: runs no operation")
        for op in thread.ops:
            _validate_op(model, thread, op)
    for prop in model.properties:
        for v in variables(prop.expr):
            if isinstance(v, Local):
                raise ModelError(f"property {prop.name}: reads local {v.name!r}; use a ghost")
            table = model.shared if isinstance(v, Shared) else model.ghosts
            if v.name not in table:
                raise ModelError(f"property {prop.name}: unknown variable {v.name!r}")


def _validate_op(model: Model, thread: Thread, op: Operation) -> None:
    labels = [s.label for s in op.steps]
    dup = {x for x in labels if labels.count(x) > 1}
    if dup:
        raise ModelError(f"{_where(thread, op)}: duplicate step label {sorted(dup)[0]!r}")
    if DONE in labels:
        raise ModelError(f"{_where(thread, op)}: {DONE!r} is reserved")
    known = set(labels) | {DONE}
    if op.entry not in labels:
        raise ModelError(f"{_where(thread, op)}: unknown entry label {op.entry!r}")
    for step in op.steps:
        where = _where(thread, op, step)
        nexts = step.next.labels() if isinstance(step.next, Switch) else [step.next]
        for label in nexts:
            if label not in known:
                raise ModelError(f"{where}: jumps to unknown label {label!r}")
        declared_reads = set(step.reads)
        declared_writes = set(step.writes)
        for name in declared_reads | declared_writes:
            if name not in model.shared and name not in model.ghosts:
                raise ModelError(f"{where}: declares access to unknown location {name!r}")
        exprs: list[tuple[Expr, str]] = [(step.guard, "guard")]
        exprs += [(rhs, f"update of {lhs.name}") for lhs, rhs in step.update]
        if isinstance(step.next, Switch):
            exprs += [(c, "branch condition") for c, _ in step.next.cases]
        for expr, what in exprs:
            shared, ghost = _check_expr(model, op, lift(expr), step, where, what)
            missing = (shared | ghost) - declared_reads
            if missing:
                raise ModelError(f"{where}: {what} reads {sorted(missing)[0]!r} undeclared")
        for lhs, _ in step.update:
            if isinstance(lhs, Local):
                if lhs.name not in op.locals:
                    raise ModelError(f"{where}: assigns undeclared local {lhs.name!r}")
                continue
            table = model.shared if isinstance(lhs, Shared) else model.ghosts
            if lhs.name not in table:
                raise ModelError(f"{where}: assigns unknown variable {lhs.name!r}")
            if lhs.name not in declared_writes:
                raise ModelError(f"{where}: writes {lhs.name!r} without declaring it")
        _validate_access(model, step, where)
        if step.retry and (step.writes or step.choose is not None):
            raise ModelError(f"{where}: a retry step writes nothing and makes no choice")
        if step.retry:
            from .retry import check_loop  # the retry module builds on this one

            check_loop(op, step, where)
        targets = [lhs for lhs, _ in step.update]
        if len(set(targets)) != len(targets):
            raise ModelError(f"{where}: assigns the same variable twice")
        if step.choose is not None:
            if step.choose.local not in op.locals:
                raise ModelError(f"{where}: chooses undeclared local {step.choose.local!r}")
            if not step.choose.values:
                raise ModelError(f"{where}: a choice needs at least one value")
        touched = {n for n in declared_reads | declared_writes if n in model.shared}
        if len(touched) > 1 and not step.atomic:
            raise ModelError(
                f"{where}: touches {len(touched)} shared locations "
                f"({', '.join(sorted(touched))}); a step makes at most one shared access"
            )


def _validate_access(model: Model, step: Step, where: str) -> None:
    """An ordering annotation must fit the access the step makes."""
    if step.order not in ORDERS:
        raise ModelError(f"{where}: unknown order {step.order!r} (known: {', '.join(ORDERS)})")
    loads = {n for n in step.reads if n in model.shared}
    stores = {n for n in step.writes if n in model.shared}
    if step.fence:
        if step.fence not in FENCES:
            raise ModelError(f"{where}: unknown fence {step.fence!r} (known: {', '.join(FENCES)})")
        if loads or stores:
            raise ModelError(f"{where}: a fence accesses no shared location")
    if step.order == "acquire" and (stores or not loads):
        raise ModelError(f"{where}: an acquire step must load and not store")
    if step.order == "release" and (loads or not stores):
        raise ModelError(f"{where}: a release step must store and not load")
    if step.order == "relaxed" and not (loads & stores):
        raise ModelError(f"{where}: a relaxed atomic must read and write one location")
