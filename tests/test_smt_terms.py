"""The z3 translation of expressions computes what the reference interpreter does."""

from __future__ import annotations

import z3
from hypothesis import HealthCheck, given, settings
from test_expr import NAMES, exprs, states

from explorer.lang.expr import Expr, Local, evaluate
from explorer.lang.terms import bv, to_bool, to_bv

SETTINGS = settings(max_examples=400, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _env(state: list[int]):
    values = {Local(n): bv(v) for n, v in zip(NAMES, state, strict=True)}
    return lambda var: values[var]


@SETTINGS
@given(exprs, states)
def test_bit_vector_term_matches_evaluate(expr: Expr, state: list[int]) -> None:
    want = evaluate(expr, {Local(n): v for n, v in zip(NAMES, state, strict=True)})
    got = z3.simplify(to_bv(expr, _env(state)))
    assert z3.is_bv_value(got)
    assert got.as_long() == want, f"{expr}: z3 {got.as_long()}, evaluate {want}"


@SETTINGS
@given(exprs, states)
def test_condition_matches_evaluate(expr: Expr, state: list[int]) -> None:
    want = evaluate(expr, {Local(n): v for n, v in zip(NAMES, state, strict=True)}) != 0
    got = z3.simplify(to_bool(expr, _env(state)))
    assert z3.is_true(got) == want and z3.is_false(got) != want


def test_symbolic_terms_are_proved_equal_to_evaluate_for_all_values() -> None:
    """Not only on sample points: z3 proves wrap-around and shift edge cases."""
    a, b = z3.BitVecs("a b", 64)
    env = {Local("a"): a, Local("b"): b}.__getitem__
    x, y = Local("a"), Local("b")
    s = z3.Solver()
    # (a << b) is 0 for b >= 64, as in evaluate; (a - b) wraps.
    s.add(z3.Not(z3.Implies(z3.UGE(b, 64), to_bv(x << y, env) == 0)))
    assert s.check() == z3.unsat
    s = z3.Solver()
    s.add(to_bv(x - y, env) != (a + (~b) + 1))
    assert s.check() == z3.unsat
