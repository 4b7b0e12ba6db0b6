"""Sticky invariants are checked, not trusted (model.Property.sticky).

A sticky invariant, once false, stays false. Partial-order reduction relies on
it: Program._footprints does not order the steps that write what a sticky
invariant reads, so a wrong declaration lets the default strategy say HOLDS
for a violated property. ``check_sticky`` proves the claim for every step of
the compiled program (the store-buffer flushes of a lowered model included)
before anything is explored:

- without z3 when the invariant is a conjunction of ``v == 0`` and every
  assignment to such a ``v`` keeps it nonzero once it is: a latch
  ``ite(v != 0, v, e)`` / ``ite(v == 0, e, v)`` or a nonzero constant (the
  breach and SRCU contract ghosts);
- otherwise with z3, one query per remaining step that assigns a variable the
  invariant reads: no state where its guard holds, the invariant is false
  before and true after the update (locals and every other variable free).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..lang.expr import WIDTH, BinOp, Const, Expr, Ghost, Ite, Shared, UnOp, Var, lift, variables
from ..lang.model import ModelError, Property

if TYPE_CHECKING:
    from .program import CompiledStep, Program

Z3_TIMEOUT_MS = 20_000  # per step; z3's "unknown" is "not proved"
ADVICE = "drop sticky=True (it only makes the search faster)"


def check_sticky(program: Program) -> None:
    """ModelError unless every sticky invariant provably stays false once false."""
    for prop in program.invariants:
        if not prop.sticky:
            continue
        read = {v for v in variables(prop.expr) if isinstance(v, Shared | Ghost)}
        zeros = _zero_tests(prop.expr)
        pending = []
        for cs in program.iter_steps():
            assigned = [(lhs, lift(rhs)) for lhs, rhs in cs.step.update if lhs in read]
            if assigned and not (
                zeros is not None and all(_keeps_nonzero(lhs, rhs) for lhs, rhs in assigned)
            ):
                pending.append(cs)
        if pending:  # z3 loads only here: the shipped models never get this far
            _prove(program, prop, pending)


def _zero_tests(expr: Expr) -> set[Var] | None:
    """The variables of a conjunction of `v == 0` terms, or None if it is not one."""
    if isinstance(expr, BinOp) and expr.op == "and":
        left, right = _zero_tests(expr.left), _zero_tests(expr.right)
        return None if left is None or right is None else left | right
    for v in variables(expr):
        if isinstance(v, Shared | Ghost) and _tests_nonzero(expr, v) is False:
            return {v}
    return None


def _tests_nonzero(cond: Expr, v: Var) -> bool | None:
    """True if ``cond`` is `v != 0`, False if it is `v == 0`, None if neither."""
    if cond == v:
        return True
    if isinstance(cond, UnOp) and cond.op == "not":
        inner = _tests_nonzero(cond.arg, v)
        return None if inner is None else not inner
    if isinstance(cond, BinOp) and cond.op in ("==", "!=") and {cond.left, cond.right} == {
        v, Const(0)
    }:
        return cond.op == "!="
    return None


def _keeps_nonzero(v: Var, rhs: Expr) -> bool:
    """Whether `v = rhs` leaves v nonzero whenever it was nonzero before."""
    if rhs == v:
        return True
    if isinstance(rhs, Const):
        return rhs.value != 0
    if isinstance(rhs, Ite):
        test = _tests_nonzero(rhs.cond, v)
        return (test is True and rhs.then == v) or (test is False and rhs.other == v)
    return False


def _where(program: Program, cs: CompiledStep) -> str:
    return (f"thread {program.threads[cs.thread].name}, operation {cs.op.name}, "
            f"step {cs.step.label!r} ({cs.step.line})")


def _prove(program: Program, prop: Property, steps: list[CompiledStep]) -> None:
    import z3

    from ..lang.terms import to_bool, to_bv

    pre: dict[Var, z3.BitVecRef] = {}  # one free bit-vector per variable, in every query

    def before(v: Var) -> z3.BitVecRef:
        if v not in pre:
            pre[v] = z3.BitVec(f"{type(v).__name__.lower()}:{v.name}", WIDTH)
        return pre[v]

    for cs in steps:
        # Right-hand sides see the state before the step, as Program runs them.
        post = {lhs: to_bv(lift(rhs), before) for lhs, rhs in cs.step.update}
        solver = z3.Solver()
        solver.set("timeout", Z3_TIMEOUT_MS)
        solver.add(to_bool(cs.step.guard, before), z3.Not(to_bool(prop.expr, before)),
                   to_bool(prop.expr, _updated(post, before)))
        answer = solver.check()
        if answer == z3.unsat:
            continue
        if answer == z3.sat:
            m = solver.model()
            state = ", ".join(
                f"{v.name}={m.eval(before(v), model_completion=True)}"
                for v in sorted(variables(prop.expr), key=lambda v: v.name)
            )
            raise ModelError(f"property {prop.name} is declared sticky but "
                             f"{_where(program, cs)} can make it true again (from {state}); "
                             f"{ADVICE}")
        why = " ".join(solver.reason_unknown().split())
        raise ModelError(f"property {prop.name} is declared sticky but z3 cannot prove that "
                         f"{_where(program, cs)} never makes it true again ({why}); {ADVICE}")


def _updated(post: dict[Var, Any], before: Callable[[Var], Any]) -> Callable[[Var], Any]:
    """The state after a step: its assignments, else the value before."""
    return lambda v: post[v] if v in post else before(v)
