"""The moments a counterexample turns on, found from the model alone (no names known).

For a violated invariant: the step that made it false (the last event's own
step: the search stops at the first state where it fails), and the step that
opened the property's window. Properties such as "no allocation after freeze
returns" read a ghost that the breaking step sets only while a window ghost
is true (guest_memfd's frozen_window.iN, set when freeze() returns); the
window is the ghost the breaking step read as true that the property itself
does not read, and it opened at the last step that wrote it. Final properties
and deadlocks have neither: no single step breaks them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..compile.program import Program, State, StepRecord
from ..lang.expr import BinOp, Expr, Ghost, Shared, Var, evaluate, variables
from ..lang.model import Property

FALSE_TEXT = ("0", "false", "0x0")  # a rendered zero (see program.render)


@dataclass(frozen=True)
class Moment:
    step: int  # 1-based, in the trace
    record: StepRecord
    values: tuple[tuple[str, str], ...]  # what the step set that matters, (variable, value)

    def cite(self) -> str:
        """`step 9 (get_folio1: filemap_get_folio, virt/kvm/guest_memfd.c:118)`."""
        r = self.record
        return f"step {self.step} ({r.thread_name}: {r.label}, {r.line})"

    def shown(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.values)


@dataclass(frozen=True)
class Moments:
    property: str | None = None  # the violated invariant's name
    window: Moment | None = None  # where its window opened
    broke: Moment | None = None  # the step that made it false


def invariant(program: Program, name: str) -> Property | None:
    return next((p for p in program.invariants if p.name == name), None)


def failing_vars(expr: Expr, state: State, program: Program) -> list[Var]:
    """The variables of the parts that make `expr` false in `state`: of a false
    "and" only its false terms (an "or" is false when all its terms are), of
    anything else all; every variable when `expr` is not false at all."""
    lookup = {v: int(state[program.slot[v]]) for v in variables(expr) if v in program.slot}

    def why(e: Expr) -> set[Var]:
        if isinstance(e, BinOp) and e.op in ("and", "or"):
            parts = [x for x in (e.left, e.right) if not evaluate(x, lookup)]
            if not parts:
                return variables(e)
            out: set[Var] = set()
            for x in parts:
                out |= why(x)
            return out
        return variables(e)

    found = why(expr) if not evaluate(expr, lookup) else variables(expr)
    return sorted((v for v in found if isinstance(v, Shared | Ghost)), key=lambda v: v.name)


def moments(program: Program, trace: list[StepRecord], failure: str | None,
            state: State | None = None) -> Moments:
    """The window and the breaking step of `failure` in `trace` (see the module
    docstring); `state` (where it failed) narrows what the breaking step shows
    to the variables that make the property false."""
    prop = invariant(program, failure) if failure else None
    leads = [i for i, rec in enumerate(trace, 1) if not rec.fused]
    if prop is None or not leads:
        return Moments()
    i = leads[-1]
    rec = trace[i - 1]
    reads = set(variables(prop.expr))
    if state is not None:
        reads = set(failing_vars(prop.expr, state, program))
    names = {v.name for v in reads}
    broke = Moment(i, rec, tuple((k, v) for k, v in rec.writes if k in names))
    own = {v.name for v in variables(prop.expr)}
    ghosts = set(program.model.ghosts)
    opened: dict[int, list[tuple[str, str]]] = {}
    for name, value in rec.reads:
        if name not in ghosts or name in own or value in FALSE_TEXT:
            continue
        writer = next((j for j in range(i - 1, 0, -1) if name in dict(trace[j - 1].writes)),
                      None)
        if writer is not None:
            opened.setdefault(writer, []).append((name, value))
    window = None
    if opened:
        j = max(opened)
        window = Moment(j, trace[j - 1], tuple(opened[j]))
    return Moments(prop.name, window, broke)
