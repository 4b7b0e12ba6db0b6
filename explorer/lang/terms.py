"""Expressions (explorer/lang/expr.py) as z3 bit-vector terms, with `evaluate`'s semantics
(in the language's room: the sticky check at load and the smt encoding both use it;
z3 loads only when this module is imported).

Values are 64-bit bit-vectors. Comparisons and logic yield 0/1 in the
explorer; here they are built as z3 Bools when the context wants a Bool
(guards, branch conditions, properties) and lifted to 0/1 only when used as
a number, which keeps the formulas small.
"""

from __future__ import annotations

from collections.abc import Callable

import z3

from .expr import WIDTH, BinOp, Const, Expr, Ghost, Ite, Local, Shared, UnOp, Var

Env = Callable[[Var], z3.BitVecRef]

_CMP: dict[str, Callable[[z3.BitVecRef, z3.BitVecRef], z3.BoolRef]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": z3.ULT,
    "<=": z3.ULE,
    ">": z3.UGT,
    ">=": z3.UGE,
}


def bv(value: int) -> z3.BitVecNumRef:
    return z3.BitVecVal(value, WIDTH)


ONE = bv(1)
ZERO = bv(0)


def to_bv(expr: Expr, env: Env) -> z3.BitVecRef:
    """The term's value as a 64-bit bit-vector (u64 wrap-around, like the explorer)."""
    if isinstance(expr, Const):
        return bv(expr.value)
    if isinstance(expr, Shared | Ghost | Local):
        return env(expr)
    if isinstance(expr, UnOp):
        if expr.op == "~":
            return ~to_bv(expr.arg, env)
        return z3.If(to_bool(expr, env), ONE, ZERO)
    if isinstance(expr, Ite):
        return z3.If(to_bool(expr.cond, env), to_bv(expr.then, env), to_bv(expr.other, env))
    assert isinstance(expr, BinOp)
    op = expr.op
    if op in _CMP or op in ("and", "or"):
        return z3.If(to_bool(expr, env), ONE, ZERO)
    a, b = to_bv(expr.left, env), to_bv(expr.right, env)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "&":
        return a & b
    if op == "|":
        return a | b
    if op == "^":
        return a ^ b
    if op == "<<":  # z3 gives 0 for shifts of 64 or more, as the explorer does
        return a << b
    assert op == ">>"
    return z3.LShR(a, b)


def to_bool(expr: Expr, env: Env) -> z3.BoolRef:
    """The term as a condition: true when its value is not 0."""
    if isinstance(expr, Const):
        return z3.BoolVal(expr.value != 0)
    if isinstance(expr, UnOp) and expr.op == "not":
        return z3.Not(to_bool(expr.arg, env))
    if isinstance(expr, BinOp):
        if expr.op == "and":
            return z3.And(to_bool(expr.left, env), to_bool(expr.right, env))
        if expr.op == "or":
            return z3.Or(to_bool(expr.left, env), to_bool(expr.right, env))
        if expr.op in _CMP:
            return _CMP[expr.op](to_bv(expr.left, env), to_bv(expr.right, env))
    if isinstance(expr, Ite):
        return z3.If(to_bool(expr.cond, env), to_bool(expr.then, env),
                     to_bool(expr.other, env))
    return to_bv(expr, env) != ZERO
