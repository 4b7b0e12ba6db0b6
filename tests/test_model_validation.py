"""Malformed models are rejected on load; runaway models are reported as errors."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from explorer.compile.program import Program
from explorer.lang.builder import OpBuilder
from explorer.lang.expr import MASK, Ghost, Local, Shared, eq, evaluate, ne
from explorer.lang.model import (
    DONE,
    Model,
    ModelError,
    Operation,
    Property,
    Thread,
    VarDecl,
    validate,
)
from explorer.search.budget import Budget
from explorer.search.dfs import explore
from explorer.search.result import ERROR, HOLDS

SHARED = {"x": VarDecl(), "y": VarDecl()}
GHOSTS = {"g": VarDecl()}
LINE = "test.c:1"


def model_of(op: Operation, props: tuple[Property, ...] = ()) -> Model:
    return Model("m", SHARED, GHOSTS, (Thread("worker", (op,)),), props)


def good() -> Model:
    """A well-formed model; every bad model below differs from it in one way."""
    b = OpBuilder("op")
    v = b.local("v")
    b.add("load", LINE, "v = x;", reads=["x"], update={v: Shared("x")}, next="store")
    b.add("store", LINE, "y = v + 1;", writes=["y", "g"],
          update={Shared("y"): v + 1, Ghost("g"): 1}, next=DONE)
    return model_of(b.build(), (Property("p", "g is 0 or 1", ne(Ghost("g"), 2)),))


def unknown_next() -> Model:
    b = OpBuilder("op")
    b.add("load", LINE, "x;", reads=["x"], next="nowhere")
    return model_of(b.build())


def unknown_entry() -> Model:
    b = OpBuilder("op")
    b.add("load", LINE, "x;", reads=["x"])
    return model_of(b.build(entry="missing"))


def undeclared_guard_read() -> Model:
    b = OpBuilder("op")
    b.add("wait", LINE, "while (!x);", guard=ne(Shared("x"), 0))
    return model_of(b.build())


def guard_reads_unknown_variable() -> Model:
    b = OpBuilder("op")
    b.add("wait", LINE, "while (!z);", reads=["x"], guard=ne(Shared("z"), 0))
    return model_of(b.build())


def undeclared_write() -> Model:
    b = OpBuilder("op")
    b.add("store", LINE, "x = 1;", update={Shared("x"): 1})
    return model_of(b.build())


def two_shared(atomic: bool) -> Callable[[], Model]:
    def build() -> Model:
        b = OpBuilder("op")
        b.add("copy", LINE, "y = x;", reads=["x"], writes=["y"],
              update={Shared("y"): Shared("x")}, atomic=atomic)
        return model_of(b.build())

    return build


def undeclared_local_read() -> Model:
    b = OpBuilder("op")
    b.add("store", LINE, "x = w;", writes=["x"], update={Shared("x"): Local("w")})
    return model_of(b.build())


def undeclared_local_write() -> Model:
    b = OpBuilder("op")
    b.add("load", LINE, "w = x;", reads=["x"], update={Local("w"): Shared("x")})
    return model_of(b.build())


def property_reads_local() -> Model:
    b = OpBuilder("op")
    v = b.local("v")
    b.add("load", LINE, "v = x;", reads=["x"], update={v: Shared("x")})
    return model_of(b.build(), (Property("p", "v is 0", eq(v, 0)),))


def duplicate_labels() -> Model:
    b = OpBuilder("op")
    b.add("step", LINE, "x;", reads=["x"], next="step")
    b.add("step", LINE, "y;", reads=["y"])
    return model_of(b.build())


BAD = [
    (unknown_next, ["worker", "op", "'load'", "unknown label 'nowhere'"]),
    (unknown_entry, ["worker", "op", "unknown entry label 'missing'"]),
    (undeclared_guard_read, ["worker", "'wait'", "guard", "'x'", "undeclared"]),
    (guard_reads_unknown_variable, ["'wait'", "guard", "undeclared shared variable 'z'"]),
    (undeclared_write, ["worker", "'store'", "writes 'x' without declaring"]),
    (two_shared(atomic=False), ["worker", "'copy'", "2 shared locations", "x, y"]),
    (undeclared_local_read, ["worker", "'store'", "undeclared local 'w'"]),
    (undeclared_local_write, ["worker", "'load'", "undeclared local 'w'"]),
    (property_reads_local, ["property p", "local 'v'"]),
    (duplicate_labels, ["worker", "op", "duplicate step label 'step'"]),
]


@pytest.mark.parametrize(("build", "fragments"), BAD, ids=[f.__name__ for f, _ in BAD])
def test_malformed_model_is_rejected(build, fragments):
    model = build()
    with pytest.raises(ModelError) as err:
        validate(model)
    message = str(err.value)
    for fragment in fragments:
        assert fragment in message, message
    # Program(model) validates too, with the same message
    with pytest.raises(ModelError, match=re.escape(message)):
        Program(model)


@pytest.mark.parametrize("build", [good, two_shared(atomic=True)], ids=["good", "atomic"])
def test_well_formed_models_are_accepted(build):
    model = build()
    validate(model)
    r = explore(Program(model), cache=True, budget=Budget())
    assert r.verdict == HOLDS, (r.failure, r.reason)


# -- executions that never end ----------------------------------------------------


def spin_model(reads_shared: bool) -> Model:
    """A step that jumps back to itself and changes nothing."""
    b = OpBuilder("spin")
    b.add("spin", LINE, "for (;;) ;", reads=["x"] if reads_shared else [], next="spin")
    return model_of(b.build())


def counter_model() -> Model:
    b = OpBuilder("count")
    b.add("inc", LINE, "x++;", reads=["x"], writes=["x"],
          update={Shared("x"): Shared("x") + 1}, next="inc")
    return model_of(b.build())


@pytest.mark.parametrize("cache", [True, False], ids=["stateful", "naive"])
@pytest.mark.parametrize("reads_shared", [True, False], ids=["shared-read", "local"])
def test_self_loop_without_progress_is_an_error(cache, reads_shared):
    program = Program(spin_model(reads_shared))
    r = explore(program, cache=cache, budget=Budget())
    assert r.verdict == ERROR
    assert r.exit_code == 2
    assert "spin" in r.reason
    assert "worker" in r.reason
    assert r.failure is None and r.schedule is None


@pytest.mark.parametrize("cache", [True, False], ids=["stateful", "naive"])
def test_counter_forever_is_an_error(cache):
    max_steps = 50
    r = explore(Program(counter_model()), cache=cache, budget=Budget(max_steps=max_steps))
    assert r.verdict == ERROR
    assert "steps" in r.reason
    assert str(max_steps) in r.reason
    assert "worker" in r.reason
    # it gave up after about max_steps steps, not after wrapping a 64-bit counter
    assert r.stats.events <= max_steps + 1


def test_initial_value_outside_u64_is_rejected_or_wrapped():
    b = OpBuilder("op")
    b.add("load", LINE, "x;", reads=["x"])
    prop = Property("x-is-max", "x == U64_MAX", eq(Shared("x"), MASK))
    model = Model("neg", {"x": VarDecl(-1, "signed")}, {}, (Thread("worker", (b.build(),)),),
                  (prop,))
    try:
        program = Program(model)
    except ModelError:
        return  # rejected on load: fine
    # accepted: then it must mean the u64 value -1 wraps to, which satisfies the property
    assert evaluate(prop.expr, {Shared("x"): -1}) == 1
    r = explore(program, cache=True, budget=Budget())
    assert r.verdict == HOLDS, r.failure
