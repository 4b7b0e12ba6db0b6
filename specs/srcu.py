"""SRCU's own contract, as a condition on the srcu model's ghosts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from explorer.models.srcu_contract import LATE, STALE

from explorer.lang.expr import Expr, Ghost, eq
from explorer.lang.family import PropertySpec


def _grace_period(values: Mapping[str, Any]) -> Expr:
    return eq(Ghost(LATE), 0)


def _grace_period_data(values: Mapping[str, Any]) -> Expr:
    return eq(Ghost(STALE), 0)


PROPERTIES = (
    PropertySpec(
        "grace-period",
        "a read-side critical section that began before synchronize_srcu() began "
        "has ended when synchronize_srcu() returns",
        "invariant",
        _grace_period,
    ),
    PropertySpec(
        "grace-period-data",
        "a read-side critical section that read data from before a synchronize_srcu() "
        "has ended when that synchronize_srcu() returns (scenarios with publish=1; the "
        "guarantee as the Linux kernel memory model states it)",
        "invariant",
        _grace_period_data,
        sticky=True,
    ),
)
