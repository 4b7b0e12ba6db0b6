"""Deadlocks: a thread that waits for itself, or two threads that wait for each other."""

from __future__ import annotations

import pytest
from explorer.models.srcu import AbstractSrcu

from explorer.compile.program import Program
from explorer.lang.builder import OpBuilder
from explorer.lang.expr import Shared, ne
from explorer.lang.model import DONE, Model, Thread, VarDecl
from explorer.search.budget import Budget
from explorer.search.dfs import explore
from explorer.search.replay import replay
from explorer.search.result import DEADLOCK, HOLDS, VIOLATED

CACHE = pytest.mark.parametrize("cache", [True, False], ids=["stateful", "naive"])


def test_srcu_self_deadlock_scenario(run_check, property_false):
    o = run_check(model="srcu", scenario="self-deadlock")
    r = o.result
    assert r.verdict == VIOLATED
    assert r.failure.name == DEADLOCK
    assert DEADLOCK in r.properties
    state = o.final_state
    assert property_false(o.program, state, DEADLOCK)
    blocked = o.program.blocked(state)
    assert blocked, "a deadlock leaves some thread blocked"
    for t, cs in blocked:
        name = o.program.threads[t].name
        assert name in r.failure.detail
        assert cs.step.label in r.failure.detail
    # every unfinished thread is blocked: nobody can move
    unfinished = {t for t in range(len(o.program.threads)) if o.program.current(state, t)}
    assert unfinished == {t for t, _ in blocked}


def test_srcu_default_scenario_has_no_deadlock(run_check):
    r = run_check(model="srcu").result
    assert r.verdict == HOLDS
    assert DEADLOCK in r.properties


# -- hand-built models -------------------------------------------------------------


def srcu_model(read_lock: bool) -> Model:
    """One thread: [srcu_read_lock;] synchronize_srcu; [srcu_read_unlock] on one domain."""
    domain = AbstractSrcu("ss", ["t0"])
    b = OpBuilder("update", "same domain")
    if read_lock:
        domain.read_lock(b, "t0", "lock", "sync.begin", "test.c:1", "srcu_read_lock(&ss);")
    domain.synchronize(
        b, "sync.", "unlock" if read_lock else DONE, "test.c:2", "synchronize_srcu(&ss);"
    )
    if read_lock:
        domain.read_unlock(b, "t0", "unlock", DONE, "test.c:3", "srcu_read_unlock(&ss, idx);")
    op = b.build("lock" if read_lock else "sync.begin")
    return Model("self-sync", domain.shared(), {}, (Thread("t0", (op,)),))


@CACHE
def test_synchronize_inside_own_read_section_deadlocks(cache):
    program = Program(srcu_model(read_lock=True))
    r = explore(program, cache=cache, budget=Budget())
    assert r.verdict == VIOLATED
    assert r.failure.name == DEADLOCK
    assert "t0" in r.failure.detail
    assert "sync.wait" in r.failure.detail
    records, state = replay(program, r.schedule)
    assert [rec.label for rec in records] == ["lock", "sync.begin"]
    assert not program.finished(state)
    assert program.transitions(state) == []
    assert [(t, cs.step.label) for t, cs in program.blocked(state)] == [(0, "sync.wait.t0")]


@CACHE
def test_synchronize_outside_read_section_finishes(cache):
    program = Program(srcu_model(read_lock=False))
    r = explore(program, cache=cache, budget=Budget())
    assert r.verdict == HOLDS, r.failure
    assert r.failure is None
    assert r.stats.schedules == 1


def waiter_model(set_first: bool) -> Model:
    """Thread a waits for flag.b, then sets flag.a; thread b the other way round.

    With ``set_first`` thread a sets its flag before waiting: no deadlock.
    """

    def thread(me: str, other: str, first: bool) -> Thread:
        b = OpBuilder("handshake", f"{me} waits for {other}")
        wait = dict(
            reads=[f"flag.{other}"],
            guard=ne(Shared(f"flag.{other}"), 0),
            waits_for=f"flag.{other} to be set",
        )
        setf = dict(writes=[f"flag.{me}"], update={Shared(f"flag.{me}"): 1})
        if first:
            b.add("set", "hs.c:1", f"flag_{me} = 1;", next="wait", **setf)
            b.add("wait", "hs.c:2", f"while (!flag_{other});", **wait)
        else:
            b.add("wait", "hs.c:2", f"while (!flag_{other});", next="set", **wait)
            b.add("set", "hs.c:1", f"flag_{me} = 1;", **setf)
        return Thread(me, (b.build(),))

    shared = {"flag.a": VarDecl(0, "bool"), "flag.b": VarDecl(0, "bool")}
    return Model("handshake", shared, {}, (thread("a", "b", set_first), thread("b", "a", False)))


@CACHE
def test_threads_waiting_for_each_other_deadlock(cache):
    program = Program(waiter_model(set_first=False))
    r = explore(program, cache=cache, budget=Budget())
    assert r.verdict == VIOLATED
    assert r.failure.name == DEADLOCK
    for name in ("a", "b"):
        assert f"{name} blocked at wait" in r.failure.detail
    assert "flag.a to be set" in r.failure.detail and "flag.b to be set" in r.failure.detail
    _, state = replay(program, r.schedule)
    assert {t for t, _ in program.blocked(state)} == {0, 1}


@CACHE
def test_one_thread_setting_first_avoids_the_deadlock(cache):
    program = Program(waiter_model(set_first=True))
    r = explore(program, cache=cache, budget=Budget())
    assert r.verdict == HOLDS, r.failure
    assert r.stats.schedules >= 1
