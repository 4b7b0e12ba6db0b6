"""The compiled expressions (to_python) compute what the reference interpreter does."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.lang.expr import (
    BINARY_OPS,
    MASK,
    BinOp,
    Const,
    Expr,
    Ite,
    Local,
    UnOp,
    evaluate,
    ite,
    lnot,
    to_python,
)

NAMES = ("a", "b", "c", "d")
SLOT = {Local(n): i for i, n in enumerate(NAMES)}
EDGES = [0, 1, 2, 63, 64, 65, 1 << 32, (1 << 63) - 1, 1 << 63, MASK - 1, MASK]

u64 = st.one_of(st.sampled_from(EDGES), st.integers(min_value=0, max_value=MASK))
leaves = st.one_of(u64.map(Const), st.sampled_from(NAMES).map(Local))


def _extend(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    return st.one_of(
        st.builds(BinOp, st.sampled_from(sorted(BINARY_OPS)), children, children),
        st.builds(UnOp, st.sampled_from(["~", "not"]), children),
        st.builds(Ite, children, children, children),
    )


exprs = st.recursive(leaves, _extend, max_leaves=24)
states = st.lists(u64, min_size=len(NAMES), max_size=len(NAMES))


def run_compiled(expr: Expr, state: list[int]) -> object:
    src = to_python(expr, SLOT, "s")
    return eval(compile(src, "<expr>", "eval"), {"__builtins__": {}}, {"s": list(state)})


def reference(expr: Expr, state: list[int]) -> int:
    return evaluate(expr, {Local(n): v for n, v in zip(NAMES, state, strict=True)})


@settings(
    max_examples=200,
    deadline=None,
    database=None,  # write nothing outside tests/
    suppress_health_check=[HealthCheck.too_slow],
)
@given(expr=exprs, state=states)
def test_compiled_matches_reference(expr, state):
    got = run_compiled(expr, state)
    want = reference(expr, state)
    assert 0 <= want <= MASK
    assert int(got) == want, to_python(expr, SLOT, "s")


a, b = Local("a"), Local("b")

# C u64 semantics, spelled out: both backends must give these values
KNOWN = [
    (a - b, (0, 1), MASK),
    (a + b, (MASK, 1), 0),
    (a * b, (1 << 32, 1 << 32), 0),
    (a << b, (1, 63), 1 << 63),
    (a << b, (1, 64), 0),
    (a << b, (1, MASK), 0),
    (a >> b, (MASK, 64), 0),
    (a >> b, (MASK, 63), 1),
    (~a, (0, 0), MASK),
    (~a, (MASK, 0), 0),
    (lnot(a), (0, 0), 1),
    (lnot(a), (7, 0), 0),
    (BinOp("and", a, b), (2, 4), 1),
    (BinOp("and", a, b), (2, 0), 0),
    (BinOp("or", a, b), (0, 0), 0),
    (BinOp("<", a, b), (MASK, 0), 0),
    (ite(a, b, 5), (0, 9), 5),
    (ite(a, b, 5), (3, 9), 9),
    (Const(-1), (0, 0), MASK),
    (~BinOp("==", a, b), (1, 1), MASK - 1),  # ~ of a comparison result (a bool)
]


@pytest.mark.parametrize(("expr", "values", "want"), KNOWN, ids=range(len(KNOWN)))
def test_known_values(expr, values, want):
    state = [*values, 0, 0]
    assert reference(expr, state) == want
    assert int(run_compiled(expr, state)) == want
