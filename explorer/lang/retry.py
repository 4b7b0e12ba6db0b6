"""Retry loops: the precondition that lets the explorer skip retries, checked.

A retry step (``Step.retry``) closes a loop that only reads, like
synchronize_srcu()'s scan of the per-CPU counters: when the scan fails it
goes back to the loop head and scans again. The explorer never takes a retry
step (Program.cut_off says how a run that stops there ends). That is sound
only if a failed attempt leaves no trace, so this module checks, when a model
is loaded, that the loop body (every step on a path from the loop head back
to the retry step):

- writes no shared or ghost location and makes no choice, so other threads
  cannot tell that an attempt ran;
- writes no local that is live at the loop head (read, on some path from the
  head, before it is written again), so an attempt does not depend on the
  attempts before it: an attempt counter, or a flag or-ed across attempts, is
  refused.

Then removing a failed attempt from a run leaves a run, and every execution
of the real loop is one of the loop without retries plus failed attempts that
changed nothing. Whether a run that stops at a retry step is cut off or
stuck for good is decided by running one more attempt in the state the run
ended in (nothing else can move there, so every load in it reads that
state): ``exit_condition`` is that attempt, symbolically, as an expression
over the state. If the attempt would leave the loop, the run where the
thread's attempt comes at that point instead is another run, which the
explorer covers; if it would fail again (or block inside the loop), the
thread would retry for ever: it hangs.
"""

from __future__ import annotations

from .expr import FALSE, TRUE, Expr, Local, Var, land, lnot, lor, substitute, variables
from .model import DONE, ModelError, Operation, Step, Switch

MAX_PATHS = 4096  # paths through one loop body: more is refused, not explored


def successors(step: Step) -> list[str]:
    return step.next.labels() if isinstance(step.next, Switch) else [step.next]


def loop_body(op: Operation, retry: Step) -> list[Step]:
    """The steps on a path from the loop head (the retry step's target) back to
    the retry step, in the operation's order; the retry step included."""
    assert isinstance(retry.next, str)
    ahead: set[str] = set()
    todo = [retry.next]
    while todo:
        label = todo.pop()
        if label == DONE or label in ahead:
            continue
        ahead.add(label)
        if label != retry.label:
            todo.extend(successors(op.step(label)))
    back = {retry.label}
    changed = True
    while changed:
        changed = False
        for s in op.steps:
            if s.label not in back and s.label in ahead and back & set(successors(s)):
                back.add(s.label)
                changed = True
    return [s for s in op.steps if s.label in ahead and s.label in back]


def _uses(expr: Expr) -> set[str]:
    return {v.name for v in variables(expr) if isinstance(v, Local)}


def live_at(op: Operation, label: str) -> set[str]:
    """Locals live on entry to step ``label``: read on some path from there
    before being written. A Switch reads its conditions after the step's
    update, as Program runs them."""
    before: dict[str, set[str]] = {}  # read before the step's own writes
    after: dict[str, set[str]] = {}  # read by its branch conditions, after them
    defs: dict[str, set[str]] = {}
    for s in op.steps:
        pre = _uses(s.guard)
        for _, rhs in s.update:
            pre |= _uses(rhs)
        before[s.label] = pre
        after[s.label] = set().union(*(_uses(c) for c, _ in s.next.cases)) \
            if isinstance(s.next, Switch) else set()
        defs[s.label] = {lhs.name for lhs, _ in s.update if isinstance(lhs, Local)}
        if s.choose is not None:
            defs[s.label].add(s.choose.local)
    live: dict[str, set[str]] = {s.label: set() for s in op.steps}
    changed = True
    while changed:
        changed = False
        for s in reversed(op.steps):
            out = set().union(*(live[n] for n in successors(s) if n != DONE))
            new = before[s.label] | ((after[s.label] | out) - defs[s.label])
            if new != live[s.label]:
                live[s.label] = new
                changed = True
    return live[label]


def check_loop(op: Operation, retry: Step, where: str) -> None:
    """Refuses a retry loop whose failed attempts could leave a trace (module docstring)."""
    if retry.guard != TRUE or retry.update or retry.reads:
        raise ModelError(
            f"{where}: a retry step has no guard, reads nothing and assigns nothing: "
            "whether a new attempt could succeed is computed from the loop itself"
        )
    if not isinstance(retry.next, str) or retry.next == DONE:
        raise ModelError(f"{where}: a retry step jumps back to its loop head (one label)")
    body = loop_body(op, retry)
    for s in body:
        if s is retry:
            continue
        if s.writes:
            raise ModelError(
                f"{where}: the loop it retries writes {s.writes[0]!r} (step {s.label!r}); "
                "a retried loop may only read shared and ghost state"
            )
        if s.choose is not None:
            raise ModelError(
                f"{where}: the loop it retries makes a choice (step {s.label!r}); "
                "a retried loop must read the same way every time"
            )
    written = {lhs.name for s in body for lhs, _ in s.update if isinstance(lhs, Local)}
    carried = written & live_at(op, retry.next)
    if carried:
        raise ModelError(
            f"{where}: the loop it retries carries local {sorted(carried)[0]!r} from one "
            "attempt to the next (read before it is written again); each attempt must "
            "start afresh, so count attempts, or combine what they saw, outside the model "
            "or with an ordinary loop"
        )


def exit_condition(op: Operation, retry: Step) -> Expr:
    """When one more attempt, run from the loop head in the current state with
    no other thread moving, leaves the loop: the disjunction, over the paths
    from the head that leave the loop body, of the guards and branch
    conditions along them, with each local the attempt assigns replaced by
    what it assigns."""
    assert isinstance(retry.next, str)
    inside = {s.label for s in loop_body(op, retry)}
    exits: list[Expr] = []
    paths = 0
    # Depth-first over paths: (label, locals as expressions, path condition, labels seen).
    todo: list[tuple[str, dict[Var, Expr], Expr, frozenset[str]]] = [
        (retry.next, {}, TRUE, frozenset())
    ]
    while todo:
        label, env, cond, seen = todo.pop()
        if label == retry.label:
            continue  # fails again
        if label not in inside:
            exits.append(cond)  # left the loop: the attempt succeeded
            paths += 1
            if paths > MAX_PATHS:
                raise ModelError(f"retry loop of {op.name}: more than {MAX_PATHS} paths")
            continue
        if label in seen:
            raise ModelError(
                f"retry loop of {op.name}: step {label!r} loops inside the retried loop; "
                "only the retry step may go back to the loop head"
            )
        s = op.step(label)
        here = _and(cond, substitute(s.guard, env))
        post = dict(env)
        for lhs, rhs in s.update:
            post[lhs] = substitute(rhs, env)  # right-hand sides read the state before
        nexts: list[tuple[Expr, str]] = []
        if isinstance(s.next, Switch):
            taken: Expr = FALSE
            for c, target in s.next.cases:
                ce = substitute(c, post)
                nexts.append((_and(ce, _not(taken)), target))
                taken = ce if taken == FALSE else lor(taken, ce)
            nexts.append((_not(taken), s.next.default))
        else:
            nexts.append((TRUE, s.next))
        for c, target in reversed(nexts):
            todo.append((target, post, _and(here, c), seen | {label}))
    return lor(*exits) if exits else FALSE


def _and(a: Expr, b: Expr) -> Expr:
    return b if a == TRUE else a if b == TRUE else land(a, b)


def _not(e: Expr) -> Expr:
    return TRUE if e == FALSE else lnot(e)
