"""A spinlock on atomic_cmpxchg() and the counter it protects (examples/spinlock.c).

The worked example of the README's "Model your own protocol": a model file
defines FAMILY (an explorer.lang.family.Family) and PROPERTIES, and
`explorer check examples/spinlock.py` checks it like a built-in model.

Each CPU runs counted_inc() `rounds` times: take the lock, read the count,
write it back plus one, release the lock. Two properties:

- mutual-exclusion (invariant): at most one CPU is between counted_lock()
  and counted_unlock(); read from the ghost `holders`, which the step that
  takes the lock increments and the step that releases it decrements.
- no-lost-update (final): when every CPU has returned (and, under TSO/PSO,
  every store has reached memory), count == cpus * rounds.

Two mutants, each a plausible mistake:

- split-cmpxchg: the lock is taken by READ_ONCE() then WRITE_ONCE() instead of
  one cmpxchg: two CPUs both see it free (violated under every memory model).
- plain-unlock: the release is WRITE_ONCE() instead of atomic_set_release():
  under PSO the store of count can reach memory after the lock's, so the next
  holder reads the old count (holds under SC and TSO, violated under PSO).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from explorer.lang import access
from explorer.lang.builder import OpBuilder, merge
from explorer.lang.expr import Expr, Ghost, Shared, eq, le
from explorer.lang.family import Family, Mutant, Param, PropertySpec, Scenario
from explorer.lang.model import DONE, Model, Thread, VarDecl, branch

SRC = "examples/spinlock.c"
LOCK, COUNT, HOLDERS = "lock", "count", "holders"

P_CPUS = Param("cpus", "2", "CPUs running counted_inc()", low=1, high=4)
P_ROUNDS = Param("rounds", "1", "counted_inc() calls per CPU", low=1, high=3)


def counted_inc(mutant: str | None, round_: int) -> OpBuilder:
    """One call of counted_inc(), step by step beside examples/spinlock.c."""
    b = OpBuilder("counted_inc", f"round {round_}")
    v = b.local("v", doc="the count as this CPU read it")
    old = b.local("old", doc="the lock's value the CPU saw")
    take = {Ghost(HOLDERS): Ghost(HOLDERS) + 1}
    if mutant == "split-cmpxchg":
        b.add("test", f"{SRC}:16", "while (READ_ONCE(c->lock) != 0)  /* mutant: no cmpxchg */",
              **access.load(LOCK, old), next=branch(eq(old, 0), "set", "relax"))
        # The loop only reads: a retry step, which the explorer never takes (a run that
        # would spin ends there; explorer/lang/retry.py checks the loop when loaded).
        b.add("relax", f"{SRC}:17", "cpu_relax();", retry=True, next="test")
        b.add("set", f"{SRC}:16", "WRITE_ONCE(c->lock, 1);  /* mutant */",
              **_with(access.store(LOCK, 1), take, HOLDERS), next="read")
    else:
        # A failed cmpxchg changes nothing, so the model waits for lock == 0 instead
        # of spinning (a false guard blocks the thread; a deadlock shows as such).
        b.add("cmpxchg", f"{SRC}:16", "while (atomic_cmpxchg(&c->lock, 0, 1) != 0)",
              **_with(access.cmpxchg(LOCK, 0, 1, old), take, HOLDERS),
              guard=eq(Shared(LOCK), 0), waits_for="the lock to be free", next="read")
    b.add("read", f"{SRC}:30", "v = c->count;", **access.load(COUNT, v, "plain"), next="write")
    b.add("write", f"{SRC}:31", "c->count = v + 1;", **access.store(COUNT, v + 1, "plain"),
          next="unlock")
    order = "once" if mutant == "plain-unlock" else "release"
    code = ("WRITE_ONCE(c->lock, 0);  /* mutant: no release */" if order == "once"
            else "atomic_set_release(&c->lock, 0);")
    b.add("unlock", f"{SRC}:22", code,
          **_with(access.store(LOCK, 0, order), {Ghost(HOLDERS): Ghost(HOLDERS) - 1}, HOLDERS),
          next=DONE)
    return b


def _with(fields: dict[str, Any], ghosts: Mapping[Any, Expr], name: str) -> dict[str, Any]:
    """A step's access plus a ghost update made in the same step."""
    return {**fields, "reads": [*fields.get("reads", ()), name],
            "writes": [*fields.get("writes", ()), name],
            "update": merge(fields["update"], ghosts)}


class Spinlock(Family):
    name = "spinlock"
    description = "a cmpxchg spinlock and the counter it protects (examples/spinlock.c)"
    scenarios = (
        Scenario("default", "2 CPUs, one counted_inc() each"),
        Scenario("three-cpus", "3 CPUs, one counted_inc() each", {"cpus": "3"}),
        Scenario("twice", "2 CPUs, two counted_inc() each", {"rounds": "2"}),
    )
    mutants = (
        Mutant("split-cmpxchg", "the lock is taken by READ_ONCE() then WRITE_ONCE(), "
               "not one cmpxchg"),
        Mutant("plain-unlock", "the unlock is WRITE_ONCE(), not atomic_set_release()"),
    )

    def params(self, settings: Mapping[str, str]) -> list[Param]:
        return [P_CPUS, P_ROUNDS]

    def build(self, values: Mapping[str, Any], mutant: str | None, srcu: str) -> Model:
        shared = {LOCK: VarDecl(0, "dec", "c->lock: 0 free, 1 held"),
                  COUNT: VarDecl(0, "dec", "c->count, protected by the lock")}
        ghosts = {HOLDERS: VarDecl(0, "dec", "CPUs between counted_lock() and "
                                   "counted_unlock()")}
        threads = tuple(
            Thread(f"cpu{i}", tuple(counted_inc(mutant, r).build()
                                    for r in range(values["rounds"])))
            for i in range(values["cpus"])
        )
        return Model("spinlock", shared, ghosts, threads,
                     description="counted_inc() on every CPU")


def _exclusive(values: Mapping[str, Any]) -> Expr:
    return le(Ghost(HOLDERS), 1)


def _no_lost_update(values: Mapping[str, Any]) -> Expr:
    return eq(Shared(COUNT), values["cpus"] * values["rounds"])


FAMILY = Spinlock()
PROPERTIES = (
    PropertySpec("mutual-exclusion", "at most one CPU holds the lock", "invariant",
                 _exclusive),
    PropertySpec("no-lost-update", "when every CPU has returned, count is the number of "
                 "counted_inc() calls", "final", _no_lost_update),
)
