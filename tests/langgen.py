"""Random programs over the whole model language, one sub-generator per shape class.

tests/randprog.py draws the common shapes (one shared access per step, one
register, straight-line threads). This module covers what it never makes,
organised by *shape class* (SHAPES), so that a report can say which corner
of the language an engine bug lives in:

- ``basic``: randprog's own programs (delegated to it).
- ``multi-guard``: atomic steps whose guard reads 2-3 shared locations
  written by different threads (==, !=, sums, and/or), updating locals,
  shared locations and ghosts from them; multi-location reads without guard.
- ``choices``: several Choice points (2-3 values) per thread and per run, in
  1-3 threads, before and after shared accesses, feeding branches and values.
- ``rmw``: inc, fetch_add, xchg, cmpxchg, guarded RMWs (lock acquire,
  semaphore down), RMW results feeding branches (try-lock).
- ``local-chains``: chains of local-only steps (fused with the step before,
  Program._settle) between shared accesses: branches on locals, bounded
  local loops, a local guard that can block for good.
- ``retry``: scan loops in the shape of models/srcu_impl.py (read 1-3
  counters, branch out on a success test, else a retry step back to the
  head) against writer threads; valid loops and invalid ones (a shared or
  ghost write or a choice in the body, a local live at the head), the latter
  marked ``refuse``. ``reference_form`` takes the retries for real (the
  reference tests/langcheck.py compares with, and why that is the right
  one, is in that module's docstring).
- ``invariants``: invariants over 2-3 shared and ghost variables, sticky
  (genuine latches, and bogus ones marked ``refuse``) and not; final
  properties.
- ``ghosts``: instrumentation steps (counters, histories, snapshots) read by
  invariants and final properties.
- ``daemons``: daemon threads looping on guards (forwarders, acknowledgers),
  with Thread.bound when it is known.
- ``sequence``: threads running 2-3 operations in sequence (Thread.ops);
  locals (some with non-zero initial values) reset between them.
- ``weak``: access orders and fences for explorer.compile.lowering.lower; half are
  randprog's weak programs (kept as ``origin`` so that tests/memref.py's
  interpreter applies), half add multi-location guards and choices.

A program is drawn as a ``Spec``: ``str(spec)`` reads like pseudo-C,
``repr(spec)`` is a Python expression over this module's names that rebuilds
it (``eval(repr(spec), vars(langgen))``), ``spec.model`` is the explorer
Model. Drawing goes through ``draw(lo, hi)`` (randprog.Draw), so the same code
serves hypothesis (``specs(shape)``, which shrinks: smaller draws are
simpler programs) and ``random.Random`` (``random_spec(rng, shape)``, for the
soak run).

``refuse`` says why the engine must refuse a program at load
(``expected_refusal`` computes the same from the model, independently of the
engine): the rules the engine fix enforces for retry loops and sticky
invariants. Until the fix lands, the engine accepts such programs.

Programs stay small enough for the brute-force census: ``cost`` bounds the
schedules (interleavings of the threads' longest event sequences times the
choices' fan-out) by MAX_SCHEDULES (WEAK_MAX_SCHEDULES for the lowered weak
programs), and every thread's control flow is finite: jumps go forward,
except retry loops (never taken: Program.cut_off), local loops over a
decreasing counter, and daemon loops whose guard consumes what a finite
producer gave it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from math import factorial
from typing import Any

import langref
import randprog as rp
from hypothesis import strategies as st

from explorer.lang.expr import (
    TRUE,
    BinOp,
    Const,
    Expr,
    ExprLike,
    Ghost,
    Ite,
    Local,
    Shared,
    UnOp,
    Var,
    eq,
    evaluate,
    ge,
    gt,
    ite,
    land,
    le,
    lift,
    lnot,
    lor,
    lt,
    ne,
    show,
    variables,
)
from explorer.lang.model import (
    DONE,
    Choice,
    Model,
    Next,
    Operation,
    Property,
    Step,
    Switch,
    Thread,
    VarDecl,
    branch,
)

SHAPES = ("basic", "multi-guard", "choices", "rmw", "local-chains", "retry", "invariants",
          "ghosts", "daemons", "sequence", "weak")
MAX_SCHEDULES = 3000  # what the census may enumerate on one program (see schedules)
WEAK_MAX_SCHEDULES = 6000  # the same for the lowered (tso/pso) forms of weak programs
MAX_FANOUT = 12  # choices class: the product of the choices' numbers of values

Draw = rp.Draw
RandSpec = rp.Spec  # randprog's programs (``origin``), named apart from ours in reprs
Op = rp.Op
Prop = rp.Prop

# Short names for reprs.
S, G, L, C = Shared, Ghost, Local, Const


# -- building models: the helpers reprs are written in ----------------------------------


def _lift_update(update: Mapping[Var, ExprLike] | Sequence[tuple[Var, ExprLike]] | None
                 ) -> tuple[tuple[Var, Expr], ...]:
    items = update.items() if isinstance(update, Mapping) else (update or ())
    return tuple((v, lift(e)) for v, e in items)


def step(label: str, *, reads: Sequence[str] = (), writes: Sequence[str] = (),
         guard: ExprLike = TRUE,
         update: Mapping[Var, ExprLike] | Sequence[tuple[Var, ExprLike]] | None = None,
         next: Next = DONE, choose: Choice | None = None, atomic: bool = False,
         order: str = "plain", fence: str = "", retry: bool = False) -> Step:
    """A model Step; its code text is derived from the fields (so reprs need not carry it)."""
    s = Step(label=label, line=f"gen:{label}", code="", reads=tuple(dict.fromkeys(reads)),
             writes=tuple(dict.fromkeys(writes)), guard=lift(guard),
             update=_lift_update(update), next=next, choose=choose, atomic=atomic,
             order=order, fence=fence, retry=retry)
    return Step(**{**vars_of(s), "code": describe(s)})


def vars_of(s: Step) -> dict[str, Any]:
    return {f: getattr(s, f) for f in Step.__dataclass_fields__}


def restep(s: Step, **changes: Any) -> Step:
    """``s`` with some fields changed, its code text recomputed."""
    fields = {k: getattr(s, k) for k in ("reads", "writes", "guard", "update", "next",
                                         "choose", "atomic", "order", "fence", "retry")}
    fields.update(changes)
    return step(changes.get("label", s.label), **{k: v for k, v in fields.items()
                                                  if k != "label"})


def op(name: str, steps: Sequence[Step], locals: Mapping[str, int] | None = None,
       entry: str = "") -> Operation:
    return Operation(name, "", entry or steps[0].label, tuple(steps),
                     {k: VarDecl(v) for k, v in (locals or {}).items()})


def thread(name: str, ops: Sequence[Operation], daemon: bool = False, bound: int = 0) -> Thread:
    return Thread(name, tuple(ops), daemon=daemon, bound=bound)


def prop(name: str, expr: ExprLike, kind: str = "invariant", sticky: bool = False) -> Property:
    e = lift(expr)
    return Property(name, show(e), e, kind=kind, sticky=sticky)


def model(shared: Mapping[str, int], threads: Sequence[Thread],
          ghosts: Mapping[str, int] | None = None,
          props: Sequence[Property] = ()) -> Model:
    return Model("gen", {k: VarDecl(v) for k, v in shared.items()},
                 {k: VarDecl(v) for k, v in (ghosts or {}).items()}, tuple(threads),
                 tuple(props))


# -- printing ----------------------------------------------------------------------------


def src(e: Expr) -> str:
    """Python source rebuilding ``e`` from this module's names."""
    if isinstance(e, Const):
        return f"C({e.value})"
    if isinstance(e, Shared | Ghost | Local):
        return f"{type(e).__name__[0]}({e.name!r})"
    if isinstance(e, UnOp):
        return f"lnot({src(e.arg)})" if e.op == "not" else f"~{src(e.arg)}"
    if isinstance(e, Ite):
        return f"ite({src(e.cond)}, {src(e.then)}, {src(e.other)})"
    assert isinstance(e, BinOp)
    fn = {"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge",
          "and": "land", "or": "lor"}.get(e.op)
    if fn:
        return f"{fn}({src(e.left)}, {src(e.right)})"
    right = str(e.right.value) if isinstance(e.right, Const) else src(e.right)
    return f"({src(e.left)} {e.op} {right})"


def _src_step(s: Step) -> str:
    args = [repr(s.label)]
    if s.reads:
        args.append(f"reads={s.reads!r}")
    if s.writes:
        args.append(f"writes={s.writes!r}")
    if s.guard != TRUE:
        args.append(f"guard={src(s.guard)}")
    if s.update:
        args.append("update={" + ", ".join(f"{src(v)}: {src(e)}" for v, e in s.update) + "}")
    if s.next != DONE:
        args.append(f"next={_src_next(s.next)}")
    if s.choose is not None:
        args.append(f"choose=Choice({s.choose.local!r}, {s.choose.values!r})")
    for name in ("atomic", "retry"):
        if getattr(s, name):
            args.append(f"{name}=True")
    for name in ("order", "fence"):
        value = getattr(s, name)
        if value != Step.__dataclass_fields__[name].default:
            args.append(f"{name}={value!r}")
    return f"step({', '.join(args)})"


def _src_next(n: Next) -> str:
    if isinstance(n, str):
        return repr(n)
    if len(n.cases) == 1:
        (cond, then), = n.cases
        return f"branch({src(cond)}, {then!r}, {n.default!r})"
    cases = ", ".join(f"({src(c)}, {lbl!r})" for c, lbl in n.cases)
    return f"Switch(({cases},), {n.default!r})"


def model_src(m: Model) -> str:
    """Python source rebuilding ``m`` (with ``model``, ``thread``, ``op``, ``step``, ``prop``)."""
    threads = []
    for t in m.threads:
        ops = []
        for o in t.ops:
            locs = {k: d.init for k, d in o.locals.items()}
            extra = f", entry={o.entry!r}" if o.entry != o.steps[0].label else ""
            ops.append(f"op({o.name!r}, [{', '.join(_src_step(s) for s in o.steps)}], "
                       f"{locs!r}{extra})")
        flags = (", daemon=True" if t.daemon else "") + (f", bound={t.bound}" if t.bound else "")
        threads.append(f"thread({t.name!r}, [{', '.join(ops)}]{flags})")
    shared = {k: d.init for k, d in m.shared.items()}
    ghosts = {k: d.init for k, d in m.ghosts.items()}
    props = ", ".join(
        f"prop({p.name!r}, {src(p.expr)}"
        + (f", kind={p.kind!r}" if p.kind != "invariant" else "")
        + (", sticky=True" if p.sticky else "") + ")" for p in m.properties)
    return (f"model({shared!r}, [{', '.join(threads)}]"
            + (f", ghosts={ghosts!r}" if ghosts else "")
            + (f", props=[{props}]" if props else "") + ")")


def describe(s: Step, fallthrough: str | None = None) -> str:
    """A step as pseudo-C. Updates are simultaneous (``a, b = e1, e2``); ``goto`` is
    printed unless the step falls through to ``fallthrough``."""
    if s.fence:
        text = {"mb": "smp_mb()", "rmb": "smp_rmb()", "wmb": "smp_wmb()"}[s.fence]
    else:
        parts = []
        if s.update:
            lhs = ", ".join(v.name for v, _ in s.update)
            rhs = ", ".join(show(e) for _, e in s.update)
            parts.append(f"{lhs} = {rhs}")
        if s.choose is not None:
            parts.append(f"{s.choose.local} = choose({', '.join(map(str, s.choose.values))})")
        text = "; ".join(parts)
        if s.guard != TRUE:
            text = f"await ({show(s.guard)})" + (f" {{ {text} }}" if text else "")
        text = text or ("retry" if s.retry else "skip")
        if s.atomic:
            text = "atomic " + text
    used = {v.name for e in _exprs(s) for v in variables(e) if not isinstance(v, Local)}
    written = {v.name for v, _ in s.update if not isinstance(v, Local)}
    hidden = [n for n in s.reads if n not in used] + [n for n in s.writes if n not in written]
    notes = [s.order] if s.order != "plain" else []
    if hidden:
        notes.append("touches " + ", ".join(dict.fromkeys(hidden)))
    if notes:
        text += f"  /* {'; '.join(notes)} */"
    if isinstance(s.next, Switch):
        for cond, label in s.next.cases:
            text += f"; if ({show(cond)}) {_goto(label)}"
        if s.next.default != fallthrough:
            text += f"; {_goto(s.next.default)}"
    elif s.retry:
        text += f" {s.next}"
    elif s.next != fallthrough:
        text += f"; {_goto(s.next)}"
    return text


def _goto(label: str) -> str:
    return "return" if label == DONE else f"goto {label}"


def _exprs(s: Step) -> list[Expr]:
    out = [s.guard] + [e for _, e in s.update]
    if isinstance(s.next, Switch):
        out += [c for c, _ in s.next.cases]
    return out


def program_text(m: Model) -> str:
    decls = ", ".join(f"{k}={d.init}" for k, d in m.shared.items())
    lines = [f"shared {decls}"]
    if m.ghosts:
        lines[0] += "; ghost " + ", ".join(f"{k}={d.init}" for k, d in m.ghosts.items())
    for t in m.threads:
        flags = ([f"daemon, bound {t.bound}" if t.bound else "daemon"] if t.daemon else [])
        lines.append(f"{t.name}:" + (f"  ({', '.join(flags)})" if flags else ""))
        for o in t.ops:
            locs = ", ".join(f"{k}={d.init}" for k, d in o.locals.items())
            if len(t.ops) > 1 or locs:
                lines.append(f"  op {o.name}" + (f" (locals {locs})" if locs else "") + ":")
            for k, s in enumerate(o.steps):
                fall = o.steps[k + 1].label if k + 1 < len(o.steps) else DONE
                entry = " <- entry" if o.entry == s.label and k else ""
                lines.append(f"    {s.label}: {describe(s, fall)}{entry}")
    for p in m.properties:
        kind = "sticky invariant" if p.sticky else p.kind
        lines.append(f"{kind} {p.name}: {show(p.expr)}")
    return "\n".join(lines)


# -- specs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """A drawn program: its shape class, the model, and why it must be refused ("" if not).

    ``origin`` is the randprog program it came from (basic and some weak
    programs), from which the model is rebuilt: tests/memref.py interprets
    only those."""

    shape: str
    model: Model | None = None
    refuse: str = ""
    origin: RandSpec | None = None

    def __post_init__(self) -> None:
        if self.origin is not None and self.model is None:
            m = self.origin.model(registers=self.shape == "weak")
            object.__setattr__(self, "model", m)
        if self.model is None:
            raise ValueError("a Spec needs a model or an origin")

    @property
    def m(self) -> Model:
        assert self.model is not None
        return self.model

    def __str__(self) -> str:
        head = f"[{self.shape}]" + (f" must be refused: {self.refuse}" if self.refuse else "")
        return head + "\n" + program_text(self.m)

    def __repr__(self) -> str:
        extra = f", refuse={self.refuse!r}" if self.refuse else ""
        if self.origin is not None:
            return f"Spec({self.shape!r}, origin=Rand{self.origin!r}{extra})"
        return f"Spec({self.shape!r}, {model_src(self.m)}{extra})"

    @property
    def events(self) -> int:
        return sum(_longest(t) or 0 for t in self.m.threads)


# -- control flow: the analyses generators, bounds, refusal rules and shrinker share -----


Node = tuple[int, str]  # (operation index, label)


def _targets(s: Step) -> list[str]:
    return s.next.labels() if isinstance(s.next, Switch) else [s.next]


def successors(t: Thread, cut_retry: bool = True) -> dict[Node, list[Node]]:
    """Each step's successors in thread ``t`` (a return goes to the next operation's
    entry); with ``cut_retry``, retry steps have none (they are never taken)."""
    out: dict[Node, list[Node]] = {}
    for k, o in enumerate(t.ops):
        for s in o.steps:
            nxt: list[Node] = []
            if not (cut_retry and s.retry):
                for label in dict.fromkeys(_targets(s)):
                    if label != DONE:
                        nxt.append((k, label))
                    elif k + 1 < len(t.ops):
                        nxt.append((k + 1, t.ops[k + 1].entry))
            out[(k, s.label)] = nxt
    return out


def _step_of(t: Thread, n: Node) -> Step:
    return t.ops[n[0]].step(n[1])


def looping_steps(t: Thread) -> set[Node]:
    """Steps on a cycle that is not cut by a retry step and is not made of local steps
    only: what would make an execution unbounded (daemons aside)."""
    g = successors(t)
    out: set[Node] = set()
    for comp in langref.sccs(g):
        cyclic = len(comp) > 1 or comp[0] in g[comp[0]]
        if cyclic and any(not _step_of(t, n).is_local for n in comp):
            out.update(comp)
    return out


def _longest(t: Thread) -> int | None:
    """Events on ``t``'s longest path (retry steps end it; a daemon: its bound, or
    None if unknown); None when a loop of shared steps makes it unbounded."""
    if t.daemon:
        return t.bound or None
    g = successors(t)
    if looping_steps(t):
        return None
    memo: dict[Node, int] = {}
    comp_of: dict[Node, int] = {}
    comps = langref.sccs(g)  # sinks first: successors' components are done before
    best: dict[int, int] = {}
    for i, comp in enumerate(comps):
        for n in comp:
            comp_of[n] = i
        w = sum(0 if _step_of(t, n).is_local else 1 for n in comp)
        after = max((best[comp_of[m]] for n in comp for m in g[n] if comp_of[m] != i),
                    default=0)
        best[i] = w + after
    entry = (0, t.ops[0].entry)
    memo[entry] = best[comp_of[entry]]
    return memo[entry]


def _fanout(t: Thread) -> int:
    out = 1
    for o in t.ops:
        for s in o.steps:
            if s.choose is not None:
                out *= len(s.choose.values)
    return out


def interleavings(lengths: Sequence[int]) -> int:
    out = factorial(sum(lengths))
    for n in lengths:
        out //= factorial(n)
    return out


def cost(m: Model) -> int:
    """A bound on the census's schedules: interleavings of the threads' longest event
    sequences times every choice's fan-out (daemons without bound: their writers'
    stores, estimated by _daemon_estimate)."""
    lengths = []
    fan = 1
    for t in m.threads:
        n = _longest(t)
        if n is None:
            n = _daemon_estimate(m, t)
        lengths.append(n)
        fan *= _fanout(t)
    return interleavings(lengths) * fan


def _daemon_estimate(m: Model, t: Thread) -> int:
    guarded = {n for o in t.ops for s in o.steps if s.guard != TRUE for n in s.reads}
    wakes = sum(1 for u in m.threads if u is not t and not u.daemon for o in u.ops
                for s in o.steps if guarded & set(s.writes))
    per = sum(1 for o in t.ops for s in o.steps if not s.is_local)
    return max(1, wakes) * per


def weak_cost(m: Model) -> int:
    from explorer.compile.lowering import lower

    return max(cost(lower(m, mm)) for mm in ("tso", "pso"))


# -- the refusal rules (as the engine fix states them), computed from the model ----------


def _local_uses(s: Step) -> tuple[set[str], set[str]]:
    """(locals read before the step writes any, locals written) by one step. A branch
    condition is evaluated after the update, so a local it reads that the update
    writes is not read first."""
    writes = {v.name for v, _ in s.update if isinstance(v, Local)}
    if s.choose is not None:
        writes.add(s.choose.local)
    first = [s.guard] + [e for _, e in s.update]
    reads = {v.name for e in first for v in variables(e) if isinstance(v, Local)}
    if isinstance(s.next, Switch):
        reads |= {v.name for c, _ in s.next.cases for v in variables(c)
                  if isinstance(v, Local) and v.name not in writes}
    return reads, writes


def live_locals(o: Operation) -> dict[str, set[str]]:
    """Per label: the locals live on entry (read before being rewritten on some path;
    paths end at the operation's return, where locals are reset)."""
    live: dict[str, set[str]] = {s.label: set() for s in o.steps}
    changed = True
    while changed:
        changed = False
        for s in o.steps:
            reads, writes = _local_uses(s)
            out: set[str] = set()
            for label in _targets(s):
                if label != DONE:
                    out |= live[label]
            new = reads | (out - writes)
            if new != live[s.label]:
                live[s.label], changed = new, True
    return live


def loop_body(o: Operation, retry: Step) -> list[Step]:
    """Steps on a path from the retry step's target back to the retry step."""
    succ = {s.label: [x for x in _targets(s) if x != DONE] for s in o.steps}
    assert isinstance(retry.next, str)
    forward: set[str] = set()
    todo = [retry.next]
    while todo:
        x = todo.pop()
        if x not in forward:
            forward.add(x)
            todo.extend(succ[x])
    back = {retry.label}
    grew = True
    while grew:
        grew = False
        for s in o.steps:
            if s.label not in back and any(x in back for x in succ[s.label]):
                back.add(s.label)
                grew = True
    return [s for s in o.steps if s.label in forward and s.label in back]


def retry_problems(m: Model) -> list[str]:
    """Why each retry loop of ``m`` must be refused: its body writes a shared or ghost
    location or makes a choice, or writes a local live at the loop head."""
    out = []
    for t in m.threads:
        for o in t.ops:
            live = live_locals(o)
            for r in o.steps:
                if not r.retry:
                    continue
                if not isinstance(r.next, str) or r.next == DONE:
                    out.append(f"{t.name}.{r.label}: a retry step jumps to a loop head")
                    continue
                for s in loop_body(o, r):
                    if s.writes:
                        out.append(f"{t.name}.{s.label} in the loop of {r.label} writes "
                                   f"{', '.join(s.writes)}")
                    if s.choose is not None:
                        out.append(f"{t.name}.{s.label} in the loop of {r.label} makes a choice")
                    dead = _local_uses(s)[1] & live[r.next]
                    if dead:
                        out.append(f"{t.name}.{s.label} in the loop of {r.label} writes "
                                   f"{', '.join(sorted(dead))}, live at the head {r.next}")
    return out


def _latch_vars(e: Expr) -> list[Var] | None:
    """The variables of a conjunction of ``v == 0`` terms, or None if ``e`` is not one."""
    if isinstance(e, BinOp) and e.op == "and":
        a, b = _latch_vars(e.left), _latch_vars(e.right)
        return None if a is None or b is None else a + b
    if (isinstance(e, BinOp) and e.op == "==" and isinstance(e.left, Shared | Ghost)
            and e.right == Const(0)):
        return [e.left]
    return None


def is_latch_write(v: Var, rhs: Expr) -> bool:
    """``v = ite(v != 0, v, e)``: once non-zero, v keeps its value."""
    return isinstance(rhs, Ite) and rhs.cond == ne(v, 0) and rhs.then == v


def sticky_problems(m: Model) -> list[str]:
    """Why each sticky invariant of ``m`` must be refused: it is not a conjunction of
    ``g == 0`` over latches (every write to g is ``g = ite(g != 0, g, e)``)."""
    out = []
    for p in m.properties:
        if not p.sticky or p.kind != "invariant":
            continue
        vs = _latch_vars(p.expr)
        if vs is None:
            out.append(f"sticky {p.name} is not a conjunction of v == 0")
            continue
        for t in m.threads:
            for o in t.ops:
                for s in o.steps:
                    for lhs, rhs in s.update:
                        if lhs in vs and not is_latch_write(lhs, rhs):
                            out.append(f"sticky {p.name}: {t.name}.{s.label} writes {lhs.name} "
                                       "other than as a latch")
    return out


def expected_refusal(m: Model) -> str:
    return "; ".join(retry_problems(m) + sticky_problems(m))


def reference_form(m: Model) -> Model:
    """Every retry step taken for real: an ordinary step back to the loop head."""
    threads = tuple(
        Thread(t.name, tuple(
            Operation(o.name, o.args, o.entry,
                      tuple(restep(s, retry=False) if s.retry else s for s in o.steps),
                      o.locals) for o in t.ops), t.cpu, t.daemon, t.bound)
        for t in m.threads)
    return Model(m.name, m.shared, m.ghosts, threads, m.properties, m.description)


def has_retry(m: Model) -> bool:
    return any(s.retry for t in m.threads for o in t.ops for s in o.steps)


# -- assembling threads ------------------------------------------------------------------

Target = int | str | tuple[Expr, int | str, int | str] | None
"""Where a step goes: None (the next step), an index (DONE past the end), DONE, or
(cond, then, else) with indices or DONE."""


@dataclass
class _Item:
    fields: dict[str, Any]
    to: Target = None
    keep: bool = False  # a step the shape class is about: trimming never drops it


@dataclass
class Code:
    """The steps of one operation, labelled s0, s1, ... in order; jumps by index."""

    items: list[_Item] = field(default_factory=list)
    locals: dict[str, int] = field(default_factory=dict)

    def local(self, name: str, init: int = 0) -> Local:
        self.locals.setdefault(name, init)
        return Local(name)

    def add(self, to: Target = None, keep: bool = False, **fields: Any) -> int:
        self.items.append(_Item(fields, to, keep))
        return len(self.items) - 1

    @property
    def here(self) -> int:
        return len(self.items)

    def _label(self, target: int | str) -> str:
        if isinstance(target, str):
            return target
        return f"s{target}" if target < len(self.items) else DONE

    def drop(self, j: int) -> None:
        """Removes item j; jumps to it go to what follows it."""
        del self.items[j]

        def fix(x: int | str) -> int | str:
            return x - 1 if isinstance(x, int) and x > j else x

        for it in self.items:
            if isinstance(it.to, tuple):
                it.to = (it.to[0], fix(it.to[1]), fix(it.to[2]))
            elif isinstance(it.to, int):
                it.to = fix(it.to)

    def build(self, name: str) -> Operation:
        steps = []
        for k, it in enumerate(self.items):
            to = it.to
            nxt: Next
            if to is None:
                nxt = self._label(k + 1)
            elif isinstance(to, tuple):
                cond, a, b = to
                nxt = branch(cond, self._label(a), self._label(b))
            else:
                nxt = self._label(to)
            steps.append(step(f"s{k}", next=nxt, **it.fields))
        used = {v.name for s in steps for e in _exprs(s) for v in variables(e)
                if isinstance(v, Local)}
        used |= {v.name for s in steps for v, _ in s.update if isinstance(v, Local)}
        used |= {s.choose.local for s in steps if s.choose is not None}
        return op(name, steps, {k: v for k, v in self.locals.items() if k in used})


@dataclass
class _Thread:
    name: str
    ops: list[Code]
    daemon: bool = False
    bound: int = 0


@dataclass
class Builder:
    """A program under construction: variables, threads (lists of Code), properties."""

    shared: dict[str, int] = field(default_factory=dict)
    ghosts: dict[str, int] = field(default_factory=dict)
    threads: list[_Thread] = field(default_factory=list)
    props: list[Property] = field(default_factory=list)

    def thread(self, code: Code | list[Code] | None = None, daemon: bool = False,
               bound: int = 0, at: int | None = None) -> Code:
        ops = code if isinstance(code, list) else [code or Code()]
        t = _Thread("", ops, daemon, bound)
        self.threads.insert(len(self.threads) if at is None else at, t)
        return ops[0]

    def build(self) -> Model:
        threads = []
        for n, t in enumerate(self.threads):
            name = f"d{n}" if t.daemon else f"t{n}"
            ops = [c.build(f"{name}" if len(t.ops) == 1 else f"{name}.op{k}")
                   for k, c in enumerate(t.ops) if c.items]
            if ops:
                threads.append(thread(name, ops, t.daemon, t.bound))
        used = {v.name for p in self.props for v in variables(p.expr)}
        used |= {n for t in threads for o in t.ops for s in o.steps
                 for n in s.reads + s.writes}
        return model({k: v for k, v in self.shared.items() if k in used}, threads,
                     {k: v for k, v in self.ghosts.items() if k in used}, self.props)

    def fit(self, weak: bool = False) -> Model:
        """The model, steps dropped (never a ``keep`` one; the last of the longest
        thread first) until its schedules are within MAX_SCHEDULES (weak: those of
        its TSO and PSO lowerings within WEAK_MAX_SCHEDULES). A function of the
        draws, so hypothesis still shrinks."""
        m = self.build()
        while schedules(m, weak) > (WEAK_MAX_SCHEDULES if weak else MAX_SCHEDULES):
            if not self._trim(m):
                break
            m = self.build()
        return m

    def _trim(self, m: Model) -> bool:
        live = [t for t in self.threads if any(c.items for c in t.ops)]  # as in m.threads
        order = sorted(range(len(live)), key=lambda n: (-(_longest(m.threads[n]) or 0), -n))
        for n in order:
            if live[n].daemon:
                continue
            for c in reversed([c for c in live[n].ops if c.items]):
                for j in reversed(range(len(c.items))):
                    if not c.items[j].keep and (len(c.items) > 1 or len(live[n].ops) > 1):
                        c.drop(j)
                        return True
        spare = [t for t in live if not t.daemon and not any(it.keep for c in t.ops
                                                            for it in c.items)]
        if spare and len(live) > 2:
            self.threads.remove(spare[-1])
            return True
        return False


def schedules(m: Model, weak: bool = False, limit: int = 0) -> int:
    """What the census will enumerate (weak: on the larger lowering): the analytic
    bound when that is small enough, else counted by the reference interpreter;
    above `limit` (by default MAX_SCHEDULES, WEAK_MAX_SCHEDULES when weak), only
    some number above it."""
    limit = limit or (WEAK_MAX_SCHEDULES if weak else MAX_SCHEDULES)
    if weak:
        from explorer.compile.lowering import lower

        return max(schedules(lower(m, mm), limit=limit) for mm in ("tso", "pso"))
    bound = cost(m)
    # A daemon's count is only estimated (a daemon whose loop has lost its guard
    # would run for ever): count those programs exactly.
    if bound <= limit and not any(t.daemon for t in m.threads):
        return bound
    try:
        n = langref.explore(m, max_states=50_000).schedules
    except langref.RefError:
        return limit + 1
    return limit + 1 if n is None else n


def _maybe(draw: Draw, n: int = 2) -> bool:
    """True one time in n; shrinks to False."""
    return draw(0, n - 1) == n - 1


def _pick(draw: Draw, seq: Sequence[Any]) -> Any:
    return seq[draw(0, len(seq) - 1)]


# -- properties every class may add ------------------------------------------------------


def _final(draw: Draw, vs: Sequence[Var], name: str = "final") -> Property:
    a = _pick(draw, vs)
    b = _pick(draw, vs)
    c = draw(0, 2)
    kind = draw(0, 5)
    e: Expr
    if kind == 0:
        e = eq(a, c)
    elif kind == 1:
        e = ne(a, c)
    elif kind == 2:
        e = le(a, c)
    elif kind == 3:
        e = eq(a + b, c + 1)
    elif kind == 4:
        e = lnot(land(eq(a, 1), eq(b, 1)))
    else:
        e = eq(a, b)
    return prop(name, e, kind="final")


def _invariant(draw: Draw, vs: Sequence[Var], name: str = "inv") -> Property:
    a = _pick(draw, vs)
    b = _pick(draw, vs)
    kind = draw(0, 3)
    e: Expr
    if kind == 0:
        e = lnot(land(eq(a, 1), eq(b, 1)))
    elif kind == 1:
        e = le(a + b, draw(1, 3))
    elif kind == 2:
        e = le(a, draw(1, 2))
    else:
        e = ne(a, draw(1, 3))
    return prop(name, e)


def _props(draw: Draw, b: Builder, vs: Sequence[Var]) -> None:
    """A final property, an invariant, both or neither (each about half the time)."""
    if draw(0, 1):
        b.props.append(_final(draw, vs))
    if _maybe(draw, 3):
        _add_invariant(draw, b, _invariant(draw, vs))


def _add_invariant(draw: Draw, b: Builder, p: Property) -> None:
    """Adds p; one invariant in four that is false in the initial state is kept (a
    corner of its own: it ends every run before the first step)."""
    init: dict[Var, int] = {S(k): v for k, v in b.shared.items()}
    init.update({G(k): v for k, v in b.ghosts.items()})
    if evaluate(p.expr, init) or _maybe(draw, 4):
        b.props.append(p)


def _vars(b: Builder) -> list[Var]:
    out: list[Var] = [S(x) for x in b.shared]
    return out + [G(g) for g in b.ghosts]


# -- the shape classes -------------------------------------------------------------------


def gen_basic(draw: Draw) -> Spec:
    return Spec("basic", origin=rp.generate(draw))


def _writer(draw: Draw, c: Code, xs: Sequence[str], others: Sequence[str], n: int) -> None:
    """n steps writing xs (stores of constants, increments, copies from ``others``)."""
    for j in range(n):
        x = xs[j % len(xs)]
        kind = draw(0, 3)
        if kind == 0 or (kind == 3 and not others):
            c.add(writes=[x], update={S(x): draw(0, 2)})
        elif kind == 1:
            c.add(reads=[x], writes=[x], update={S(x): S(x) + 1})
        elif kind == 2:
            c.add(writes=[x], update={S(x): draw(0, 1)})
            c.add(writes=[x], update={S(x): draw(0, 2)})
        else:
            r = c.local("w")
            y = _pick(draw, others)
            c.add(reads=[y], update={r: S(y)})
            c.add(writes=[x], update={S(x): r + draw(0, 1)})


def _guard_shape(draw: Draw, xs: Sequence[Expr]) -> Expr:
    a, b = xs[0], xs[1]
    z = xs[2] if len(xs) > 2 else xs[0]
    kind = draw(0, 8)
    return [
        lambda: eq(a, b),
        lambda: ne(a, b),
        lambda: eq(a + b, draw(1, 3)),
        lambda: lor(eq(a, draw(1, 2)), eq(b, draw(1, 2))),
        lambda: land(eq(a, draw(0, 1)), eq(b, draw(1, 2))),
        lambda: ge(a + b + (z if len(xs) > 2 else C(0)), draw(1, 3)),
        lambda: land(eq(a, b), ne(z, draw(0, 1))),
        lambda: lt(a, b),
        lambda: eq(a ^ b, 1),
    ][kind]()


def gen_multi_guard(draw: Draw) -> Spec:
    """Writers own the guard's locations (two at least are written by different
    threads); guard threads take one atomic step reading them all."""
    b = Builder()
    k = draw(2, 3)
    xs = [f"x{i}" for i in range(k)]
    for x in xs:
        b.shared[x] = 0
    nwriters = draw(2, k)
    for w in range(nwriters):
        c = b.thread()
        mine = [x for i, x in enumerate(xs) if i % nwriters == w]
        _writer(draw, c, mine, [x for x in xs if x not in mine] if _maybe(draw, 3) else [],
                draw(1, 2))
    nguards = draw(1, 2) if nwriters + 2 <= 4 else 1
    for g in range(nguards):
        c = b.thread(at=draw(0, len(b.threads)))
        r = c.local("r")
        if _maybe(draw, 3):  # the guard thread writes one of the locations first
            x = _pick(draw, xs)
            c.add(writes=[x], update={S(x): draw(0, 2)})
        reads = list(xs)
        vals = [S(x) for x in xs]
        guard = TRUE if _maybe(draw, 4) else _guard_shape(draw, vals)
        combine = _pick(draw, [vals[0] + vals[1], vals[0], vals[1] - vals[0], vals[0] ^ vals[1],
                               vals[0] + vals[-1]])
        update: dict[Var, Expr] = {r: combine}
        writes: list[str] = []
        if _maybe(draw, 3):  # consume or move a value in the same atomic step
            x = _pick(draw, xs)
            update[S(x)] = _pick(draw, [C(0), vals[0], vals[1] + 1])
            writes.append(x)
        if _maybe(draw, 3):
            gh = f"g{g}"
            b.ghosts[gh] = 0
            reads.append(gh)
            writes.append(gh)
            update[G(gh)] = _pick(draw, [G(gh) + 1, vals[0] + vals[1]])
        c.add(keep=True, reads=reads, writes=writes, guard=guard, update=update, atomic=True)
        for _ in range(draw(0, 2)):
            kind = draw(0, 2)
            x = _pick(draw, xs)
            if kind == 0:  # feed the result back (defect 1: x0 = r + 1)
                c.add(writes=[x], update={S(x): r + draw(0, 1)})
            elif kind == 1:  # branch on it: skip the next step
                c.add(to=(eq(r, draw(0, 2)), c.here + 2, c.here + 1))
                c.add(writes=[x], update={S(x): draw(0, 2)})
            else:
                c.add(reads=[x], update={r: S(x)})
    _props(draw, b, _vars(b))
    return Spec("multi-guard", b.fit())


def gen_choices(draw: Draw) -> Spec:
    b = Builder()
    nvars = draw(1, 3)
    xs = [f"x{i}" for i in range(nvars)]
    for x in xs:
        b.shared[x] = 0
    nchoosers = draw(1, 3)
    nplain = draw(0 if nchoosers > 1 else 1, 1)
    order = [True] * nchoosers + [False] * nplain
    if draw(0, 1):
        order.reverse()
    fanout = 1  # the choices' product: kept small, it multiplies every schedule count
    for n, chooser in enumerate(order):
        c = b.thread()
        own = xs[n % nvars]
        cur: Local | None = None
        nsteps = draw(2, 4 if len(order) < 3 else 3)
        nchoices = draw(1, 2) if chooser else 0
        at = sorted({draw(0, nsteps - 1) for _ in range(nchoices)})
        if chooser and fanout * 2 > MAX_FANOUT:
            at = at[:1]
        r = c.local("r")
        for j in range(nsteps):
            if j in at:
                ch = c.local(f"c{j}")
                values = (0, 1, 2) if _maybe(draw, 3) and fanout * 3 <= MAX_FANOUT else (0, 1)
                fanout *= len(values)
                fields: dict[str, Any] = {"choose": Choice(ch.name, values)}
                if _maybe(draw, 4):  # wait for something, then choose
                    y = _pick(draw, xs)
                    fields.update(reads=[y], guard=ne(S(y), 2))
                elif _maybe(draw, 4):  # a load in the same step as the choice
                    y = _pick(draw, xs)
                    fields.update(reads=[y], update={r: S(y)})
                c.add(keep=True, **fields)
                cur = ch
                continue
            x = own if draw(0, 1) else _pick(draw, xs)
            kind = draw(0, 4)
            if cur is not None and kind <= 1:  # the chosen value is written
                c.add(writes=[x], update={S(x): cur + kind})
            elif cur is not None and kind == 2:  # ... or decides what runs next
                c.add(to=(eq(cur, 1), c.here + 2, c.here + 1))
                c.add(writes=[x], update={S(x): draw(1, 2)})
            elif kind == 3:
                c.add(reads=[x], update={r: S(x)})
            else:
                c.add(writes=[x], update={S(x): r + draw(0, 1) if draw(0, 1) else draw(0, 2)})
    _props(draw, b, _vars(b))
    return Spec("choices", b.fit())


def gen_rmw(draw: Draw) -> Spec:
    b = Builder()
    nvars = draw(1, 2)
    xs = [f"x{i}" for i in range(nvars)]
    for x in xs:
        b.shared[x] = draw(0, 1)
    lock = _maybe(draw, 3)
    if lock:
        b.shared["l"] = 0
        b.ghosts["cs"] = 0
    for _ in range(draw(2, 3)):
        c = b.thread()
        r = c.local("r")
        nsteps = draw(1, 3)
        critical = lock and draw(0, 1)
        if critical:
            cs = G("cs")
            if draw(0, 1):  # spin-free lock: guard l == 0; l = 1
                c.add(keep=True, reads=["l", "cs"], writes=["l", "cs"], guard=eq(S("l"), 0),
                      update={S("l"): 1, cs: cs + 1})
            else:  # try-lock: r = cmpxchg(l, 0, 1); give up if taken
                c.add(keep=True, reads=["l", "cs"], writes=["l", "cs"], order="full",
                      update={S("l"): ite(eq(S("l"), 0), 1, S("l")), r: S("l"),
                              cs: ite(eq(S("l"), 0), cs + 1, cs)},
                      to=(ne(r, 0), DONE, c.here + 1))
        for _ in range(nsteps):
            x = _pick(draw, xs)
            kind = draw(0, 5)
            rw: dict[str, Any] = {"reads": [x], "writes": [x], "keep": True}
            if kind == 0:
                c.add(update={S(x): S(x) + 1}, **rw)
            elif kind == 1:
                c.add(update={S(x): S(x) + draw(1, 2), r: S(x)}, **rw)
            elif kind == 2:
                c.add(update={S(x): draw(0, 2), r: S(x)}, **rw)
            elif kind == 3:  # cmpxchg feeding a branch
                a, v = draw(0, 1), draw(1, 2)
                c.add(update={S(x): ite(eq(S(x), a), v, S(x)), r: S(x)},
                      to=(eq(r, a), c.here + 1, c.here + 2), **rw)
                y = _pick(draw, xs)
                c.add(writes=[y], update={S(y): r + 1})
            elif kind == 4:  # semaphore down: wait for x != 0, take one
                c.add(guard=ne(S(x), 0), update={S(x): S(x) - 1}, **rw)
            else:
                c.add(reads=[x], update={r: S(x)})
                c.add(writes=[x], update={S(x): r + 1})
        if critical:
            c.add(keep=True, reads=["cs"], writes=["l", "cs"],
                  update={S("l"): 0, G("cs"): G("cs") - 1})
    if lock and draw(0, 1):
        b.props.append(prop("mutex", le(G("cs"), 1)))
    _props(draw, b, [S(x) for x in xs])
    return Spec("rmw", b.fit())


def _local_chain(draw: Draw, c: Code, regs: list[Local]) -> None:
    """1-3 local-only steps: arithmetic, a branch, a bounded loop, a local guard."""
    for _ in range(draw(1, 3)):
        kind = draw(0, 4)
        a, b = _pick(draw, regs), _pick(draw, regs)
        if kind == 0:
            c.add(update={a: _pick(draw, [b * 2 + 1, a ^ b, b + draw(1, 2), a & 1])})
        elif kind == 1:  # a branch on locals: skip one step
            c.add(to=(gt(a, draw(0, 1)), c.here + 2, c.here + 1))
            c.add(update={b: b + 1})
        elif kind == 2:  # for (i = a & 3; i != 0; i--) acc += i
            i, acc = c.local("i"), c.local("acc")
            c.add(update={i: a & 3})
            head = c.add(to=(eq(i, 0), c.here + 2, c.here + 1))
            c.add(update={acc: acc + i, i: i - 1}, to=head)
            regs.append(acc)
        elif kind == 3:
            c.add(update={a: b, b: a})  # a swap: simultaneous assignment
        else:  # a guard over locals only: blocks for good when false
            c.add(guard=ne(a, draw(2, 3)))


def gen_local_chains(draw: Draw) -> Spec:
    b = Builder()
    xs = [f"x{i}" for i in range(draw(1, 2))]
    for x in xs:
        b.shared[x] = 0
    for _ in range(draw(2, 3)):
        c = b.thread()
        regs = [c.local("r0"), c.local("r1", draw(0, 1))]
        if _maybe(draw, 3):
            _local_chain(draw, c, regs)  # settled in the initial state
        for _ in range(draw(1, 3)):
            x = _pick(draw, xs)
            if draw(0, 1):
                c.add(reads=[x], update={_pick(draw, regs[:2]): S(x)})
            else:
                c.add(writes=[x], update={S(x): _pick(draw, regs)})
            if draw(0, 2):
                _local_chain(draw, c, regs)
    _props(draw, b, [S(x) for x in xs])
    return Spec("local-chains", b.fit())


RETRY_FLAWS = ("ghost-in-body", "shared-in-body", "choice-in-body", "attempt-counter",
               "flag-local")


def _success(draw: Draw, regs: list[Local]) -> Expr:
    a, z = regs[0], regs[-1]
    mid = regs[1] if len(regs) > 2 else regs[0]
    return [
        lambda: eq(a, z),
        lambda: ne(a + z, 1),
        lambda: eq(a, draw(0, 1)),
        lambda: ge(z, draw(1, 2)),
        lambda: land(eq(a, mid), eq(z, 0)),
        lambda: eq(a + mid, z),
    ][draw(0, 5)]()


def _scan(draw: Draw, b: Builder, c: Code, counters: list[str], flaw: str, tag: str) -> None:
    """A scan loop: read the counters, leave on success, else retry from the head."""
    regs = [c.local(f"{tag}r{k}") for k in range(len(counters))]
    head = c.here
    if flaw == "ghost-in-body":
        b.ghosts["tries"] = 0
        c.add(keep=True, reads=["tries"], writes=["tries"],
              update={G("tries"): G("tries") + 1})
    elif flaw == "shared-in-body":
        x = _pick(draw, counters + ["busy"])
        b.shared.setdefault(x, 0)
        c.add(keep=True, reads=[x], writes=[x], update={S(x): S(x) + 1})
    elif flaw == "choice-in-body":
        c.add(keep=True, choose=Choice(c.local(f"{tag}k").name, (0, 1)))
    n = c.local(f"{tag}n")
    if flaw == "attempt-counter":
        c.add(keep=True, update={n: n + 1})
    flag = c.local(f"{tag}f")
    if draw(0, 2) == 2 and len(counters) > 1:  # one atomic snapshot of every counter
        c.add(keep=True, reads=counters, atomic=True,
              update={r: S(x) for r, x in zip(regs, counters, strict=True)})
    else:
        for k, (r, x) in enumerate(zip(regs, counters, strict=True)):
            c.add(keep=True, reads=[x], update={r: S(x)})
            if k + 1 < len(counters) and _maybe(draw, 3):
                c.add(keep=True, fence="mb")
    if flaw == "flag-local":  # remembers across attempts whether it ever saw 1
        c.add(keep=True, to=(eq(regs[0], 1), c.here + 1, c.here + 2))
        c.add(keep=True, update={flag: C(1)})
    ok = _success(draw, regs)
    if _maybe(draw, 3):  # a dead local computed in the body
        tmp = c.local(f"{tag}t")
        c.add(keep=True, update={tmp: regs[0] + regs[-1]})
        ok = _pick(draw, [ok, ne(tmp, 1)])
    exit_at = c.here + 2
    c.add(keep=True, to=(ok, exit_at, c.here + 1))
    c.add(keep=True, retry=True, to=head)
    # After the loop: what the scan saw, published.
    if flaw == "attempt-counter":
        b.ghosts["tries"] = 0
        c.add(keep=True, writes=["tries"], update={G("tries"): n})
    elif flaw == "flag-local":
        b.ghosts["saw1"] = 0
        c.add(keep=True, writes=["saw1"], update={G("saw1"): flag})
    elif _maybe(draw, 3):
        g = f"{tag}seen"
        b.ghosts[g] = 0
        c.add(writes=[g], update={G(g): regs[0] * 4 + regs[-1] + 1})


def gen_retry(draw: Draw) -> Spec:
    b = Builder()
    k = draw(1, 3)
    counters = [f"c{i}" for i in range(k)]
    for x in counters:
        b.shared[x] = draw(0, 1)
    flaw = "" if draw(0, 2) < 2 else _pick(draw, RETRY_FLAWS)
    for _ in range(draw(1, 2)):
        c = b.thread()
        for _ in range(draw(1, 3)):
            x = _pick(draw, counters)
            if draw(0, 1):
                c.add(reads=[x], writes=[x], update={S(x): S(x) + 1})
            else:
                c.add(writes=[x], update={S(x): draw(0, 2)})
    nscanners = 2 if _maybe(draw, 4) else 1
    for s in range(nscanners):
        c = b.thread(at=draw(0, len(b.threads)))
        if _maybe(draw, 3):  # something before the loop (a choice there is fine)
            if draw(0, 1):
                w = c.local(f"p{s}")
                c.add(choose=Choice(w.name, (0, 1)))
            else:
                x = _pick(draw, counters)
                c.add(reads=[x], writes=[x], update={S(x): S(x) + 1})
        mine = list(counters)
        if len(mine) > 1 and draw(0, 1):
            mine.reverse()
        _scan(draw, b, c, mine, flaw if s == 0 else "", f"a{s}")
        if s == 0 and _maybe(draw, 4):  # a second scan, as synchronize_srcu() does
            _scan(draw, b, c, mine[:1], "", f"b{s}")
    vs = [S(x) for x in counters] + [G(g) for g in b.ghosts]
    if flaw in ("ghost-in-body", "attempt-counter"):
        b.props.append(prop("one-attempt", le(G("tries"), 1), kind="final"))
    else:
        _props(draw, b, vs)
    m = b.fit()
    return Spec("retry", m, refuse="; ".join(retry_problems(m)))


def gen_invariants(draw: Draw) -> Spec:
    b = Builder()
    xs = [f"x{i}" for i in range(draw(2, 3))]
    for x in xs:
        b.shared[x] = 0
    mode = draw(0, 2)  # 0: plain invariants, 1: latches, 2: a bogus sticky invariant
    latches: list[str] = []
    for n in range(draw(2, 3)):
        c = b.thread()
        r = c.local("r")
        own = xs[n % len(xs)]
        for _ in range(draw(1, 3)):
            kind = draw(0, 3)
            x = own if draw(0, 1) else _pick(draw, xs)
            if kind == 0:  # set, later reset: what makes x == 1 true again and again
                c.add(writes=[x], update={S(x): 1})
                c.add(writes=[x], update={S(x): 0})
            elif kind == 1:
                c.add(reads=[x], update={r: S(x)})
            elif kind == 2:
                c.add(reads=[x], writes=[x], update={S(x): S(x) + 1})
            else:
                c.add(writes=[x], update={S(x): r + 1})
            if mode == 1 and _maybe(draw, 2):  # a latch records what this step saw
                g = f"g{len(latches)}" if draw(0, 1) or not latches else latches[-1]
                if g not in latches:
                    latches.append(g)
                    b.ghosts[g] = 0
                it = c.items[-1]
                y = _pick(draw, xs)
                seen = land(eq(S(y), 1), eq(r, draw(0, 1))) if draw(0, 1) else eq(S(y), 2)
                it.fields.setdefault("reads", [])
                it.fields["reads"] = list(it.fields["reads"]) + [y, g]
                it.fields["writes"] = list(it.fields.get("writes", [])) + [g]
                upd = dict(it.fields.get("update", {}))
                upd[G(g)] = ite(ne(G(g), 0), G(g), seen)
                it.fields["update"] = upd
                touched = {n for n in it.fields["reads"] + it.fields["writes"] if n in xs}
                it.fields["atomic"] = len(touched) > 1
    vs = [S(x) for x in xs] + [G(g) for g in b.ghosts]
    if mode == 1 and latches:
        b.props.append(prop("latched", land(*(eq(G(g), 0) for g in latches)), sticky=True))
    elif mode == 2:
        a, z = _pick(draw, xs), _pick(draw, xs)
        e = lnot(land(eq(S(a), 1), eq(S(z), 1))) if draw(0, 1) else le(S(a) + S(z), 1)
        b.props.append(prop("bogus-sticky", e, sticky=True))
    else:
        _add_invariant(draw, b, _invariant(draw, vs))
    if draw(0, 1):
        b.props.append(_final(draw, vs))
    m = b.fit()
    return Spec("invariants", m, refuse="; ".join(sticky_problems(m)))


def gen_ghosts(draw: Draw) -> Spec:
    b = Builder()
    xs = [f"x{i}" for i in range(draw(1, 2))]
    for x in xs:
        b.shared[x] = 0
    gs = [f"g{i}" for i in range(draw(1, 3))]
    for g in gs:
        b.ghosts[g] = 0
    for _ in range(draw(2, 3)):
        c = b.thread()
        r = c.local("r")
        for j in range(draw(1, 3)):
            x, g = _pick(draw, xs), _pick(draw, gs)
            kind = draw(0, 5 if j else 3)  # each thread's first step writes a ghost
            if kind == 0:  # a store that counts itself
                c.add(reads=[g], writes=[x, g], update={S(x): draw(1, 2), G(g): G(g) + 1})
            elif kind == 1:  # a load that keeps a history of what it read
                c.add(reads=[x, g], writes=[g], update={r: S(x), G(g): G(g) * 4 + S(x)})
            elif kind == 2:  # a ghost-only step: an event with no shared access
                c.add(writes=[g], update={G(g): r + 1})
            elif kind == 3:  # a snapshot of memory into a ghost
                c.add(reads=[x], writes=[g], update={G(g): S(x)})
            elif kind == 4:
                c.add(reads=[x], writes=[x], update={S(x): S(x) + 1})
            else:  # a ghost read by control flow (legal, if unusual)
                c.add(reads=[g], to=(eq(G(g), 0), c.here + 1, c.here + 2))
                c.add(writes=[x], update={S(x): r + 2})
    vs = [G(g) for g in gs] + [S(x) for x in xs]
    if draw(0, 2):
        b.props.append(_final(draw, vs, "final"))
    if draw(0, 1):
        _add_invariant(draw, b, _invariant(draw, vs))
    return Spec("ghosts", b.fit())


def gen_daemons(draw: Draw) -> Spec:
    """Producers hand values to daemon forwarders through a flag the daemon consumes,
    so each daemon iteration needs a producer step: every run is finite."""
    b = Builder()
    b.shared.update({"d": 0, "f": 0, "y": 0})
    chain = _maybe(draw, 3)  # a second daemon forwards y on to z
    if chain:
        b.shared.update({"f2": 0, "z": 0})
    nprod = draw(1, 2)
    sets = 0
    for _ in range(nprod):
        c = b.thread()
        for _ in range(draw(1, 2)):
            c.add(writes=["d"], update={S("d"): draw(1, 2)})
            c.add(writes=["f"], update={S("f"): 1})
            sets += 1
            if _maybe(draw, 3):  # wait for the acknowledgement
                c.add(reads=["f"], guard=eq(S("f"), 0))

    def forwarder(src_: str, flag: str, dst: str, nxt_flag: str | None) -> tuple[Code, int]:
        c = Code()
        if draw(0, 1):  # one atomic step: await (flag) { dst = src; flag = 0 }
            upd: dict[Var, Expr] = {S(dst): S(src_), S(flag): C(0)}
            writes = [dst, flag]
            if nxt_flag:
                upd[S(nxt_flag)] = C(1)
                writes.append(nxt_flag)
            c.add(keep=True, reads=[flag, src_], writes=writes, guard=eq(S(flag), 1),
                  update=upd, atomic=True, to=0)
        else:  # the same in separate steps
            v = c.local("v")
            c.add(keep=True, reads=[flag], guard=eq(S(flag), 1))
            c.add(keep=True, reads=[src_], update={v: S(src_)})
            c.add(keep=True, writes=[dst], update={S(dst): v})
            c.add(keep=True, writes=[flag], update={S(flag): 0}, to=None if nxt_flag else 0)
            if nxt_flag:
                c.add(keep=True, writes=[nxt_flag], update={S(nxt_flag): 1}, to=0)
        return c, sum(1 for it in c.items if it.fields.get("reads") or it.fields.get("writes"))

    c1, per1 = forwarder("d", "f", "y", "f2" if chain else None)
    b.thread(c1, daemon=True, bound=sets * per1 if draw(0, 1) else 0, at=draw(0, nprod))
    if chain:
        c2, per2 = forwarder("y", "f2", "z", None)
        b.thread(c2, daemon=True, bound=sets * per2 if draw(0, 1) else 0)
    if draw(0, 1):  # an observer that waits for the value to arrive
        c = b.thread()
        r = c.local("r")
        out = "z" if chain else "y"
        c.add(reads=[out], guard=ne(S(out), 0), update={r: S(out)})
        if draw(0, 1):
            c.add(writes=["d"], update={S("d"): r + 1})
    _props(draw, b, [S(x) for x in ("d", "y", "z" if chain else "f")])
    return Spec("daemons", b.fit())


def gen_sequence(draw: Draw) -> Spec:
    b = Builder()
    xs = [f"x{i}" for i in range(draw(1, 2))]
    for x in xs:
        b.shared[x] = 0
    for _ in range(draw(2, 3)):
        nops = draw(2, 3)
        first: Code | None = None
        ops: list[Code] = []
        for k in range(nops):
            if first is not None and _maybe(draw, 3):  # the same operation again
                ops.append(first)
                continue
            c = Code()
            r = c.local("r", draw(0, 2))  # a local reset to its initial value on return
            x = _pick(draw, xs)
            kind = draw(0, 4)
            if kind == 0:  # r = x; x = r + 1
                c.add(reads=[x], update={r: S(x)})
                c.add(writes=[x], update={S(x): r + 1})
            elif kind == 1:  # early return when x == 0
                c.add(reads=[x], update={r: S(x)}, to=(eq(r, 0), DONE, 1))
                c.add(writes=[x], update={S(x): r + 2})
            elif kind == 2:  # writes its local's initial value (or what the reset left)
                c.add(writes=[x], update={S(x): r})
                c.add(update={r: r + 1})
            elif kind == 3:
                ch = c.local("c")
                c.add(choose=Choice(ch.name, (0, 1)))
                c.add(writes=[x], update={S(x): ch + r})
            else:
                c.add(reads=[x], writes=[x], update={S(x): S(x) + 1, r: S(x)})
            if k == 0:
                first = c
            ops.append(c)
        b.thread(ops)
    _props(draw, b, [S(x) for x in xs])
    return Spec("sequence", b.fit())


LOAD_ORDERS = ("plain", "once", "acquire")
STORE_ORDERS = ("plain", "once", "release")


def gen_weak(draw: Draw) -> Spec:
    if draw(0, 1) == 0:
        return Spec("weak", origin=rp.generate(draw, weak=True, guards=bool(draw(0, 1))))
    b = Builder()
    xs = [f"x{i}" for i in range(draw(2, 3))]
    for x in xs:
        b.shared[x] = 0
    for _ in range(draw(2, 3)):
        c = b.thread()
        r = c.local("r")
        for _ in range(draw(1, 3)):
            x = _pick(draw, xs)
            kind = draw(0, 6)
            if kind == 0:
                c.add(writes=[x], update={S(x): draw(1, 2)}, order=_pick(draw, STORE_ORDERS))
            elif kind == 1:
                c.add(reads=[x], update={r: S(x)}, order=_pick(draw, LOAD_ORDERS))
            elif kind == 2:
                c.add(fence=_pick(draw, ("mb", "wmb", "rmb")))
            elif kind == 3:
                c.add(reads=[x], writes=[x], update={S(x): S(x) + 1, r: S(x)},
                      order=_pick(draw, ("plain", "relaxed", "full")))
            elif kind == 4:  # a multi-location guard, as one atomic step
                y = _pick(draw, [v for v in xs if v != x])
                c.add(keep=True, reads=[x, y], guard=_guard_shape(draw, [S(x), S(y)]),
                      update={r: S(x) + S(y)}, atomic=True, order=_pick(draw, ("plain", "full")))
            elif kind == 5:
                ch = c.local("c")
                c.add(choose=Choice(ch.name, (0, 1)))
                c.add(writes=[x], update={S(x): ch + 1})
            else:
                c.add(writes=[x], update={S(x): r}, order=_pick(draw, STORE_ORDERS))
    _props(draw, b, [S(x) for x in xs])
    return Spec("weak", b.fit(weak=True))


GENERATORS: dict[str, Callable[[Draw], Spec]] = {
    "basic": gen_basic,
    "multi-guard": gen_multi_guard,
    "choices": gen_choices,
    "rmw": gen_rmw,
    "local-chains": gen_local_chains,
    "retry": gen_retry,
    "invariants": gen_invariants,
    "ghosts": gen_ghosts,
    "daemons": gen_daemons,
    "sequence": gen_sequence,
    "weak": gen_weak,
}


def generate(draw: Draw, shape: str) -> Spec:
    return GENERATORS[shape](draw)


def random_spec(rng: random.Random, shape: str) -> Spec:
    return generate(rng.randint, shape)


def soak_spec(seed: int, shape: str, i: int) -> Spec:
    """Program i of shape class ``shape`` in the soak run seeded ``seed``."""
    return random_spec(random.Random(f"{seed}:{shape}:{i}"), shape)


@st.composite
def specs(draw: st.DrawFn, shape: str) -> Spec:
    """Hypothesis strategy for one shape class; each integer is its own draw."""
    return generate(lambda lo, hi: draw(st.integers(lo, hi)), shape)


def iter_steps(m: Model) -> Iterator[tuple[Thread, Operation, Step]]:
    for t in m.threads:
        for o in t.ops:
            for s in o.steps:
                yield t, o, s
