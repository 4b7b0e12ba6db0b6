"""The litmus tests' one property: the test's weak outcome does not occur.

``weak-outcome-absent`` is a final property (checked when every process has
returned and, under TSO/PSO, every store buffer has drained): it is violated
exactly when the explorer reaches the outcome, i.e. when the memory model
allows it. Whether it should be is the published verdict, kept with the
tests (tests/test_litmus.py), not here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from explorer.models.litmus import BY_NAME, Litmus, done

from explorer.lang.expr import Expr, Ghost, eq, land, lnot
from explorer.lang.family import PropertySpec
from explorer.lang.model import Property

NAME = "weak-outcome-absent"


def outcome_expr(test: Litmus) -> Expr:
    """The weak outcome as a condition: registers are ghosts, the rest shared memory
    (then only once every process has run to its end, see Litmus.marks_done)."""
    parts = [eq(test.var(k), v) for k, v in test.outcome]
    if test.marks_done:
        parts += [eq(Ghost(done(f"P{p}")), 1) for p in range(len(test.procs))]
    return land(*parts)


def _absent(values: Mapping[str, Any]) -> Expr:
    return lnot(outcome_expr(BY_NAME[values["test"]]))


@dataclass(frozen=True)
class _OutcomeSpec(PropertySpec):
    """Names the scenario's outcome in the property's description (reports show it)."""

    def instantiate(self, values: Mapping[str, Any]) -> Property:
        test = BY_NAME[values["test"]]
        prop = super().instantiate(values)
        text = f"litmus {test.name}: the outcome {test.describe_outcome()} does not occur"
        return Property(prop.name, text, prop.expr, prop.kind, prop.sticky)


PROPERTIES: tuple[PropertySpec, ...] = (
    _OutcomeSpec(
        NAME,
        "the litmus test's weak outcome (see the scenario) does not occur at the end",
        "final",
        _absent,
    ),
)
