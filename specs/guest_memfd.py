"""What guest_memfd's freeze must guarantee, as conditions on model state."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from explorer.models.guest_memfd import (
    breach_var,
    cache_var,
    preserved_var,
    preservers,
    recorded_var,
)

from explorer.lang.expr import Expr, Ghost, Shared, eq, land, lor
from explorer.lang.family import PropertySpec


def _no_change_while_frozen(values: Mapping[str, Any]) -> Expr:
    # breach.iN.pK is set by the very step that changes inode N's page cache
    # while a freezer's frozen_window.iN.<freezer> is open (see models/guest_memfd.py).
    return land(*(
        eq(Ghost(breach_var(n, k)), 0)
        for n in range(values["inodes"]) for k in range(values["pages"])
    ))


def _preservation_complete(values: Mapping[str, Any]) -> Expr:
    # Per preserver: each preserve that succeeded (and was not unpreserved) recorded
    # what its inode holds at the end.
    terms = []
    for j, who in preservers(values):
        n = values[f"preserver.{j}.inode"]
        same = land(*(
            eq(Shared(cache_var(n, k)), Ghost(recorded_var(n, k, who)))
            for k in range(values["pages"])
        ))
        terms.append(lor(eq(Ghost(preserved_var(n, who)), 0), same))
    return land(*terms)


PROPERTIES = (
    PropertySpec(
        "no-change-after-freeze",
        "after a freezer's freeze() on an inode has returned, and before that freezer's own "
        "unfreeze begins, that inode's page cache gains no folio and loses none",
        "invariant",
        _no_change_while_frozen,
        sticky=True,  # breach ghosts are only ever set
    ),
    PropertySpec(
        "preservation-complete",
        "when all threads have returned, every folio in a preserved inode's page cache is "
        "the one the preserve walk recorded (else guest memory is lost across the update)",
        "final",
        _preservation_complete,
    ),
)
