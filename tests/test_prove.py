"""explorer prove: bounded model checking in z3 against hand-made models, random
programs and the explorer itself; bounds, exit codes and bad input."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from randprog import Spec, programs

from explorer.api import Setup
from explorer.compile.program import Program
from explorer.lang.builder import OpBuilder
from explorer.lang.expr import Local, Shared, eq, ge
from explorer.lang.family import BadInput
from explorer.lang.model import DONE, Model, Operation, Property, Thread, VarDecl
from explorer.search.budget import Budget
from explorer.search.dfs import explore
from explorer.search.replay import replay
from explorer.search.result import DEADLOCK, HOLDS, INCOMPLETE, VIOLATED
from explorer.smt.cfg import longest_execution
from explorer.smt.prove import Proof, prove_program


def _setup(name: str) -> Setup:
    return Setup(name, "-", "", {}, None, "abstract", "sc")


def _prove(model: Model, bound: int | None = None) -> Proof:
    return prove_program(_setup(model.name), Program(model), bound, {})


def _incrementer(name: str, atomic: bool) -> Operation:
    b = OpBuilder("inc")
    r = b.local("r")
    if atomic:
        b.add("rmw", "x.c:1", "x++", reads=["x"], writes=["x"],
              update={Shared("x"): Shared("x") + 1}, order="relaxed")
    else:
        b.add("load", "x.c:1", "r = x", reads=["x"], update={r: Shared("x")}, next="add")
        b.add("add", "x.c:2", "r++", update={r: r + 1}, next="store")  # a local step
        b.add("store", "x.c:3", "x = r", writes=["x"], update={Shared("x"): r})
    return b.build()


def _counter(atomic: bool) -> Model:
    threads = tuple(Thread(f"t{i}", (_incrementer(f"t{i}", atomic),)) for i in range(2))
    prop = Property("sum", "both increments land", eq(Shared("x"), 2), kind="final")
    return Model("counter", {"x": VarDecl(0)}, {}, threads, (prop,))


def test_lost_update_is_found_and_replays() -> None:
    proof = _prove(_counter(atomic=False))
    r = proof.outcome.result
    assert r.verdict == VIOLATED and r.failure is not None and r.failure.name == "sum"
    assert proof.complete and proof.bound == longest_execution(proof.outcome.program).steps
    # The schedule runs in the explorer and ends in a state where x != 2.
    _, state = replay(proof.outcome.program, r.schedule)
    prog = proof.outcome.program
    assert state[prog.slot[Shared("x")]] == 1


def test_atomic_increments_hold_with_the_complete_bound() -> None:
    proof = _prove(_counter(atomic=True))
    assert proof.outcome.result.verdict == HOLDS
    assert proof.bound == 2  # one event per thread


def test_local_steps_do_not_count_in_the_bound() -> None:
    # load, (local add), store: two events per thread
    assert longest_execution(Program(_counter(atomic=False))).steps == 4


def test_smaller_bound_is_incomplete_and_says_so() -> None:
    proof = _prove(_counter(atomic=False), bound=2)  # the lost update needs 4 events
    r = proof.outcome.result
    assert r.verdict == INCOMPLETE and "up to 2 events" in r.reason and "4 events" in r.reason


def _lock_order_model() -> Model:
    """Two threads take two locks in opposite orders: a deadlock."""
    def op(first: str, second: str) -> Operation:
        b = OpBuilder("take")
        for k, lock in enumerate((first, second)):
            b.add(f"lock{k}", "l.c:1", f"lock({lock})", reads=[lock], writes=[lock],
                  guard=eq(Shared(lock), 0), update={Shared(lock): 1}, next=f"lock{k + 1}"
                  if k == 0 else "unlock0", waits_for=f"{lock} is held", order="full")
        for k, lock in enumerate((second, first)):
            b.add(f"unlock{k}", "l.c:2", f"unlock({lock})", writes=[lock],
                  update={Shared(lock): 0}, next="unlock1" if k == 0 else DONE)
        return b.build("lock0")

    return Model("locks", {"a": VarDecl(0), "b": VarDecl(0)}, {},
                 (Thread("t0", (op("a", "b"),)), Thread("t1", (op("b", "a"),))))


def test_deadlock_is_found() -> None:
    r = _prove(_lock_order_model()).outcome.result
    assert r.verdict == VIOLATED and r.failure is not None and r.failure.name == DEADLOCK
    assert "blocked" in r.failure.detail


def _daemon_model() -> Model:
    """A daemon that spins on a guarded step forever and a thread that feeds it."""
    b = OpBuilder("flush")
    b.add("flush", "d.c:1", "x = 0 when x > 0", reads=["x"], writes=["x"],
          guard=ge(Shared("x"), 1), update={Shared("x"): Shared("x") - 1}, next="flush")
    daemon = Thread("flusher", (b.build(),), daemon=True)
    w = OpBuilder("write")
    w.add("store", "d.c:2", "x = 1", writes=["x"], update={Shared("x"): 1})
    inv = Property("small", "x stays below 2", ge(1, Shared("x")))
    return Model("daemon", {"x": VarDecl(0)}, {}, (Thread("w", (w.build(),)), daemon), (inv,))


def test_a_loop_needs_a_bound() -> None:
    with pytest.raises(BadInput, match="can run forever.*flusher.*--bound"):
        _prove(_daemon_model())
    proof = _prove(_daemon_model(), bound=4)
    # Daemons are not waited for: the run ends when nothing can move.
    assert proof.outcome.result.verdict == INCOMPLETE and not proof.complete


def test_choice_and_locals_are_encoded() -> None:
    """A choice among values; a local carries it; the property fails for one value only."""
    b = OpBuilder("pick")
    v = b.local("v")
    from explorer.lang.model import Choice

    b.add("choose", "c.c:1", "v = any of 3, 7, 9", choose=Choice("v", (3, 7, 9)), next="store")
    b.add("store", "c.c:2", "x = v * 2", writes=["x"], update={Shared("x"): Local("v") * 2})
    prop = Property("not14", "x is never 14", eq(eq(Shared("x"), 14), 0))
    model = Model("pick", {"x": VarDecl(0)}, {}, (Thread("t", (b.build(),)),), (prop,))
    r = _prove(model).outcome.result
    assert r.verdict == VIOLATED and r.schedule == [(0, 7), (0, None)]
    assert v.name == "v"


RANDOM = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.too_slow])


@RANDOM
@given(programs())
def test_prove_agrees_with_exhaustive_search_on_random_programs(spec: Spec) -> None:
    """Same verdict as stateful DFS; a violation z3 finds is one the explorer confirms."""
    model = spec.model()
    want = explore(Program(model), cache=True, budget=Budget())
    proof = _prove(model)
    got = proof.outcome.result
    assert got.verdict == want.verdict, f"\n{spec}\nz3 {got.verdict} ({got.reason}), " \
                                        f"explorer {want.verdict}"


# -- the command line -------------------------------------------------------------


def test_cli_holds_and_json(run_cli) -> None:
    p = run_cli("prove", "--scenario", "tiny", "--json")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["verdict"] == "holds" and doc["strategy"] == "z3-bmc"
    assert doc["bound"] == doc["longest_execution"] > 0


def test_cli_small_bound_exit_3(run_cli) -> None:
    p = run_cli("prove", "--scenario", "tiny", "--bound", "3")
    assert p.returncode == 3 and "INCOMPLETE" in p.stdout and "up to 3 events" in p.stdout


def test_cli_violation_saves_a_schedule_that_replays(run_cli, tmp_path) -> None:
    path = tmp_path / "cx.json"
    p = run_cli("prove", "--scenario", "tiny", "--mutant", "no-synchronize",
                "--schedule-out", str(path))
    assert p.returncode == 1, p.stderr
    assert "VIOLATED no-change-after-freeze" in p.stdout and "confirmed" in p.stdout
    assert json.loads(path.read_text())["strategy"] == "z3-bmc"
    again = run_cli("replay", str(path))
    assert again.returncode == 1 and "VIOLATED no-change-after-freeze" in again.stdout


@pytest.mark.parametrize("args", [
    ("--bound", "0"), ("--bound", "-3"), ("--bound", "two"), ("--mutant", "nope"),
    ("--spec", "nope"), ("nope",), ("--scenario", "nope"), ("--set", "pages=99"),
    ("--memory-model", "weird"),
])
def test_cli_bad_input_is_one_line_exit_2(run_cli, args) -> None:
    p = run_cli("prove", *args)
    assert p.returncode == 2 and p.stdout == ""
    assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr


def test_locals_of_two_operations_with_one_name_stay_apart() -> None:
    """Two operations of one thread with a local `r` each (Program names both t.r)."""
    ops = []
    for k in range(2):
        b = OpBuilder(f"op{k}")
        r = b.local("r")
        b.add("load", "o.c:1", "r = x", reads=["x"], update={r: Shared("x") + 1}, next="store")
        b.add("store", "o.c:2", "x = r", writes=["x"], update={Shared("x"): r})
        ops.append(b.build())
    prop = Property("two", "x ends at 2", eq(Shared("x"), 2), kind="final")
    model = Model("ops", {"x": VarDecl(0)}, {}, (Thread("t", tuple(ops)),), (prop,))
    assert _prove(model).outcome.result.verdict == HOLDS


def test_a_disagreement_with_the_explorer_is_an_internal_error(monkeypatch) -> None:
    """If z3's run does not violate when the explorer replays it, prove says so (ERROR,
    exit 2), never VIOLATED: here the schedule is cut short behind z3's back."""
    from explorer.search.result import ERROR
    from explorer.smt import prove as prove_mod

    real = prove_mod.schedule_from_model
    monkeypatch.setattr(prove_mod, "schedule_from_model", lambda u, m: real(u, m)[:1])
    r = _prove(_counter(atomic=False)).outcome.result
    assert r.verdict == ERROR and r.exit_code == 2
    assert r.reason.startswith("internal: z3 and the explorer disagree")


def test_prove_says_each_phase_and_the_bound_on_stderr() -> None:
    from common import cli

    r = cli("prove", "--scenario", "tiny", "--mutant", "no-synchronize", "--progress",
            "--json", "--no-schedule", timeout=300)
    assert r.returncode == 1, r.stderr
    json.loads(r.stdout)  # stdout stays one JSON object
    lines = r.stderr.splitlines()
    assert lines[0].startswith("explorer prove [") and "encoding runs of up to" in lines[0]
    bound = json.loads(r.stdout)["bound"]
    assert any(f"fail within {bound} events? (property 1 of" in x for x in lines)
    assert "replaying it in the explorer" in lines[-1]
    quiet = cli("prove", "--scenario", "tiny", "--no-progress", "--no-schedule", timeout=300)
    assert quiet.returncode == 0 and quiet.stderr == ""
