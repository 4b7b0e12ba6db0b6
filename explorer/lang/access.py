"""Kernel memory accesses as step fields: ``b.add(label, line, code, **load("x", r))``.

Each helper returns the reads, writes, update and ordering of one step that
makes that access, so that models say ``smp_store_release(&x, 1)`` rather
than spelling out footprints. Under SC every order behaves alike; the weak
memory models (explorer/compile/lowering.py) read ``order`` and ``fence``.
"""

from __future__ import annotations

from typing import Any

from .expr import ExprLike, Local, Shared, eq, ite, lift

StepFields = dict[str, Any]


def load(x: str, into: Local, order: str = "once") -> StepFields:
    """``into = READ_ONCE(x)`` (order "plain" for a C read, "acquire" for smp_load_acquire)."""
    return {"reads": [x], "update": {into: Shared(x)}, "order": order}


def store(x: str, value: ExprLike, order: str = "once") -> StepFields:
    """``WRITE_ONCE(x, value)`` (order "plain", or "release" for smp_store_release)."""
    return {"writes": [x], "update": {Shared(x): lift(value)}, "order": order}


def fetch_add(
    x: str, delta: ExprLike, into: Local | None = None, order: str = "relaxed"
) -> StepFields:
    """``into = atomic_fetch_add(delta, x)``; order "full" for the fully ordered
    form, "plain" for ``this_cpu_add()`` (atomic only against its own CPU)."""
    update: dict[Any, Any] = {Shared(x): Shared(x) + lift(delta)}
    if into is not None:
        update[into] = Shared(x)
    return {"reads": [x], "writes": [x], "update": update, "order": order}


def inc(x: str, order: str = "relaxed") -> StepFields:
    """``atomic_inc(x)`` ("relaxed"), ``this_cpu_inc(x)`` ("plain")."""
    return fetch_add(x, 1, None, order)


def xchg(x: str, value: ExprLike, into: Local, order: str = "full") -> StepFields:
    """``into = xchg(x, value)`` (order "relaxed" for xchg_relaxed)."""
    return {
        "reads": [x], "writes": [x],
        "update": {Shared(x): lift(value), into: Shared(x)}, "order": order,
    }


def cmpxchg(
    x: str, old: ExprLike, new: ExprLike, into: Local, order: str = "full"
) -> StepFields:
    """``into = cmpxchg(x, old, new)``: stores only when x == old; returns the old x."""
    return {
        "reads": [x], "writes": [x],
        "update": {Shared(x): ite(eq(Shared(x), old), new, Shared(x)), into: Shared(x)},
        "order": order,
    }


def fence(kind: str = "mb") -> StepFields:
    """``smp_mb()`` ("mb"), ``smp_rmb()`` ("rmb"), ``smp_wmb()`` ("wmb")."""
    return {"fence": kind}
