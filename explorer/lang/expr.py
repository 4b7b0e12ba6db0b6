"""The expression language of models.

Expressions are small immutable trees over 64-bit unsigned integers. The
explorer compiles them to Python source (see ``to_python``); other backends
(z3, exporters) walk the same trees. No Python callables appear inside a
model, so every backend sees everything a step does.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

WIDTH = 64
MASK = (1 << WIDTH) - 1

# Operators whose result can leave [0, 2**64) and must wrap like C's u64.
_WRAPPING = {"+", "-", "<<", "*"}
_ARITH = {"+", "-", "*", "&", "|", "^", "<<", ">>"}
_COMPARE = {"==", "!=", "<", "<=", ">", ">="}
_LOGIC = {"and", "or"}
BINARY_OPS = _ARITH | _COMPARE | _LOGIC
UNARY_OPS = {"~", "not"}


class Expr:
    """Base of all expression nodes; operators build trees, they do not compute."""

    __slots__ = ()

    def __add__(self, other: ExprLike) -> Expr:
        return BinOp("+", self, lift(other))

    def __sub__(self, other: ExprLike) -> Expr:
        return BinOp("-", self, lift(other))

    def __mul__(self, other: ExprLike) -> Expr:
        return BinOp("*", self, lift(other))

    def __and__(self, other: ExprLike) -> Expr:
        return BinOp("&", self, lift(other))

    def __or__(self, other: ExprLike) -> Expr:
        return BinOp("|", self, lift(other))

    def __xor__(self, other: ExprLike) -> Expr:
        return BinOp("^", self, lift(other))

    def __lshift__(self, other: ExprLike) -> Expr:
        return BinOp("<<", self, lift(other))

    def __rshift__(self, other: ExprLike) -> Expr:
        return BinOp(">>", self, lift(other))

    def __invert__(self) -> Expr:
        return UnOp("~", self)


ExprLike = Expr | int


@dataclass(frozen=True, slots=True)
class Const(Expr):
    value: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", self.value & MASK)


@dataclass(frozen=True, slots=True)
class Shared(Expr):
    """A shared-memory location: reading it is a load."""

    name: str


@dataclass(frozen=True, slots=True)
class Ghost(Expr):
    """Instrumentation visible to properties; not part of the system under test."""

    name: str


@dataclass(frozen=True, slots=True)
class Local(Expr):
    """A local variable of the running operation (a register, a C local)."""

    name: str


@dataclass(frozen=True, slots=True)
class BinOp(Expr):
    op: str
    left: Expr
    right: Expr

    def __post_init__(self) -> None:
        if self.op not in BINARY_OPS:
            raise ValueError(f"unknown binary operator {self.op!r}")


@dataclass(frozen=True, slots=True)
class UnOp(Expr):
    op: str
    arg: Expr

    def __post_init__(self) -> None:
        if self.op not in UNARY_OPS:
            raise ValueError(f"unknown unary operator {self.op!r}")


@dataclass(frozen=True, slots=True)
class Ite(Expr):
    cond: Expr
    then: Expr
    other: Expr


Var = Shared | Ghost | Local
TRUE = Const(1)
FALSE = Const(0)


def lift(value: ExprLike) -> Expr:
    if isinstance(value, Expr):
        return value
    if isinstance(value, bool | int):
        return Const(int(value))
    raise TypeError(f"not an expression: {value!r}")


def eq(a: ExprLike, b: ExprLike) -> Expr:
    return BinOp("==", lift(a), lift(b))


def ne(a: ExprLike, b: ExprLike) -> Expr:
    return BinOp("!=", lift(a), lift(b))


def lt(a: ExprLike, b: ExprLike) -> Expr:
    return BinOp("<", lift(a), lift(b))


def le(a: ExprLike, b: ExprLike) -> Expr:
    return BinOp("<=", lift(a), lift(b))


def ge(a: ExprLike, b: ExprLike) -> Expr:
    return BinOp(">=", lift(a), lift(b))


def gt(a: ExprLike, b: ExprLike) -> Expr:
    return BinOp(">", lift(a), lift(b))


def land(*args: ExprLike) -> Expr:
    """Logical and of any number of terms (empty: true)."""
    terms = [lift(a) for a in args]
    if not terms:
        return TRUE
    out = terms[0]
    for t in terms[1:]:
        out = BinOp("and", out, t)
    return out


def lor(*args: ExprLike) -> Expr:
    terms = [lift(a) for a in args]
    if not terms:
        return FALSE
    out = terms[0]
    for t in terms[1:]:
        out = BinOp("or", out, t)
    return out


def lnot(a: ExprLike) -> Expr:
    return UnOp("not", lift(a))


def ite(cond: ExprLike, then: ExprLike, other: ExprLike) -> Expr:
    return Ite(lift(cond), lift(then), lift(other))


def walk(expr: Expr) -> Iterator[Expr]:
    """Every node of the tree, parents first."""
    stack = [expr]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, BinOp):
            stack.extend((node.right, node.left))
        elif isinstance(node, UnOp):
            stack.append(node.arg)
        elif isinstance(node, Ite):
            stack.extend((node.other, node.then, node.cond))


def variables(expr: Expr) -> set[Var]:
    return {n for n in walk(expr) if isinstance(n, Shared | Ghost | Local)}


def substitute(expr: Expr, repl: Mapping[Var, Expr]) -> Expr:
    """``expr`` with every variable in ``repl`` replaced by its expression."""
    if isinstance(expr, Shared | Ghost | Local):
        return repl.get(expr, expr)
    if isinstance(expr, BinOp):
        return BinOp(expr.op, substitute(expr.left, repl), substitute(expr.right, repl))
    if isinstance(expr, UnOp):
        return UnOp(expr.op, substitute(expr.arg, repl))
    if isinstance(expr, Ite):
        return Ite(
            substitute(expr.cond, repl), substitute(expr.then, repl), substitute(expr.other, repl)
        )
    return expr


def evaluate(expr: Expr, lookup: dict[Var, int]) -> int:
    """Reference interpreter (slow, for tests and tools): the semantics to_python must match."""
    if isinstance(expr, Const):
        return expr.value
    if isinstance(expr, Shared | Ghost | Local):
        return lookup[expr] & MASK
    if isinstance(expr, UnOp):
        v = evaluate(expr.arg, lookup)
        return (~v & MASK) if expr.op == "~" else int(v == 0)
    if isinstance(expr, Ite):
        return evaluate(expr.then if evaluate(expr.cond, lookup) else expr.other, lookup)
    assert isinstance(expr, BinOp)
    a = evaluate(expr.left, lookup)
    b = evaluate(expr.right, lookup)
    op = expr.op
    if op == "+":
        return (a + b) & MASK
    if op == "-":
        return (a - b) & MASK
    if op == "*":
        return (a * b) & MASK
    if op == "&":
        return a & b
    if op == "|":
        return a | b
    if op == "^":
        return a ^ b
    if op == "<<":
        return (a << b) & MASK if b < WIDTH else 0
    if op == ">>":
        return a >> b
    if op == "and":
        return int(a != 0 and b != 0)
    if op == "or":
        return int(a != 0 or b != 0)
    return int(
        {
            "==": a == b,
            "!=": a != b,
            "<": a < b,
            "<=": a <= b,
            ">": a > b,
            ">=": a >= b,
        }[op]
    )


def to_python(expr: Expr, slot: dict[Var, int], state: str = "s") -> str:
    """Python source computing ``expr`` over the flat state list named ``state``.

    Results are ints in [0, 2**64) or bools (comparisons); bools behave as 0/1
    everywhere, including in state tuples used as hash keys.
    """
    if isinstance(expr, Const):
        return str(expr.value)
    if isinstance(expr, Shared | Ghost | Local):
        return f"{state}[{slot[expr]}]"
    if isinstance(expr, UnOp):
        a = to_python(expr.arg, slot, state)
        return f"({a} ^ {MASK})" if expr.op == "~" else f"({a} == 0)"
    if isinstance(expr, Ite):
        c = to_python(expr.cond, slot, state)
        t = to_python(expr.then, slot, state)
        e = to_python(expr.other, slot, state)
        return f"({t} if {c} else {e})"
    assert isinstance(expr, BinOp)
    a = to_python(expr.left, slot, state)
    b = to_python(expr.right, slot, state)
    op = expr.op
    if op == "<<":
        return f"(({a} << {b}) & {MASK} if {b} < {WIDTH} else 0)"
    if op in _WRAPPING:
        return f"(({a} {op} {b}) & {MASK})"
    if op == "and":
        return f"({a} != 0 and {b} != 0)"
    if op == "or":
        return f"({a} != 0 or {b} != 0)"
    return f"({a} {op} {b})"


def show(expr: Expr) -> str:
    """Readable C-like rendering for error messages and exports."""
    if isinstance(expr, Const):
        return hex(expr.value) if expr.value > 0xFFFF else str(expr.value)
    if isinstance(expr, Shared | Ghost | Local):
        return expr.name
    if isinstance(expr, UnOp):
        return f"~{show(expr.arg)}" if expr.op == "~" else f"!{show(expr.arg)}"
    if isinstance(expr, Ite):
        return f"({show(expr.cond)} ? {show(expr.then)} : {show(expr.other)})"
    assert isinstance(expr, BinOp)
    op = {"and": "&&", "or": "||"}.get(expr.op, expr.op)
    return f"({show(expr.left)} {op} {show(expr.right)})"
