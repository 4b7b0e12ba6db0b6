"""Tiny models whose invariants are declared sticky, rightly or wrongly (tests/test_sticky.py).

Also a catalog (EXPLORER_CATALOG=sticky_models) so the CLI can load them: one
family, `--scenario` picks the model and its sticky invariant.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from explorer.catalog import Entry
from explorer.lang.builder import OpBuilder
from explorer.lang.expr import Expr, Ghost, Shared, eq, ite, land, le, lift, lnot, lt, ne, variables
from explorer.lang.family import Family, Param, PropertySpec, Scenario
from explorer.lang.model import DONE, Model, Operation, Property, Thread, VarDecl

LINE = "sticky.c:1"
X, Y, B = Shared("x"), Shared("y"), Ghost("b")


def _op(name: str, *writes: tuple[str, Any, Any]) -> Operation:
    """One step per (location, new value, guard)."""
    b = OpBuilder(name)
    for i, (loc, value, guard) in enumerate(writes):
        var = Ghost(loc) if loc == "b" else Shared(loc)
        nxt = f"s{i + 1}" if i + 1 < len(writes) else DONE
        reads = sorted({v.name for v in variables(lift(value)) | variables(lift(guard))})
        b.add(f"s{i}", LINE, f"{loc} = ...;", reads=reads, writes=[loc], guard=guard,
              update={var: value}, next=nxt)
    return b.build()


def _model(threads: tuple[Thread, ...], prop: Expr) -> Model:
    return Model("sticky", {"x": VarDecl(), "y": VarDecl()}, {"b": VarDecl()}, threads,
                 (Property("inv", "the sticky invariant", prop, sticky=True),))


def reproducer() -> Model:
    """x and y are each 1 for a moment; both at once only in some interleavings."""
    return _model((Thread("A", (_op("a", ("x", 1, 1), ("x", 0, 1)),)),
                   Thread("B", (_op("b", ("y", 1, 1), ("y", 0, 1)),))),
                  lnot(land(eq(X, 1), eq(Y, 1))))


def latch(second: Any) -> Model:
    """A breach-style latch on ghost b, and a second writer of b (`second`)."""
    latched = ite(ne(B, 0), B, ne(X, 0))
    return _model((Thread("A", (_op("a", ("x", 1, 1)),)),
                   Thread("B", (_op("b", ("b", latched, 1), ("b", second, 1)),))),
                  eq(B, 0))


def monotone(guarded: bool = True) -> Model:
    """x only grows, below 5, by guarded increments: `x <= 2` stays false (z3 proves it).
    Unguarded, x + 1 wraps at 2**64 and `x <= 2` can become true again."""
    inc = ("x", X + 1, lt(X, 5) if guarded else 1)
    return _model((Thread("A", (_op("a", inc, inc),)), Thread("B", (_op("b", inc, inc),))),
                  le(X, 2))


CASES = {"reproducer": reproducer, "latch-reset": lambda: latch(0),
         "latch-set": lambda: latch(7), "monotone": monotone}


class StickyFamily(Family):
    name = "sticky"
    description = "sticky invariants, right and wrong"
    scenarios = tuple(Scenario(n, n, {"case": n}) for n in CASES)
    default_scenario = "reproducer"

    def params(self, settings: Mapping[str, str]) -> list[Param]:
        return [Param("case", "reproducer", "the model", kind="choice", choices=tuple(CASES))]

    def build(self, values: Mapping[str, Any], mutant: str | None, srcu: str) -> Model:
        return CASES[values["case"]]().with_properties(())


def _prop(values: Mapping[str, Any]) -> Expr:
    return CASES[values["case"]]().properties[0].expr


ENTRIES = (Entry(StickyFamily(), (PropertySpec("inv", "the sticky invariant", "invariant",
                                               _prop, sticky=True),)),)
DEFAULT_MODEL = "sticky"
