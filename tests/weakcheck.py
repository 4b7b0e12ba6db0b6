"""One weak-memory random program, checked every way: shared by the tests and the soak.

For each of sc, tso and pso, the final and deadlock outcomes of the reference
interpreter (memref, written from the machines' definitions) must equal those
the census and optimal DPOR reach on the lowered model (explorer/compile/lowering.py);
and on tso and pso every strategy must agree with the census on the lowered
model (randprog.compare: optimal one execution per Mazurkiewicz class).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from memref import MODELS, Outcome, run
from randprog import VARS, Comparison, Spec, compare, register

from explorer.compile.lowering import lower
from explorer.compile.program import Program, State
from explorer.lang.expr import Ghost, Shared
from explorer.search.budget import Budget
from explorer.search.dpor import Outcomes, explore_dpor
from explorer.search.oracle import census


def project(program: Program, spec: Spec, state: tuple[int, ...] | State) -> Outcome:
    """A final state of the (lowered) program as the reference writes outcomes."""
    mem = tuple(state[program.slot[Shared(x)]] for x in VARS[: len(spec.init)])
    regs = tuple(state[program.slot[Ghost(register(n))]] for n in range(len(spec.threads)))
    return mem, regs


def lowered(spec: Spec, mm: str) -> Program:
    return Program(lower(spec.model(registers=True), mm))


def outcomes(spec: Spec, mm: str, strategy: str) -> tuple[set[Outcome], set[Outcome]]:
    """(final outcomes, deadlock outcomes) of the lowered program, by the census or
    by optimal DPOR in collect mode."""
    program = lowered(spec, mm)
    if strategy == "census":
        got = census(program).outcomes
    else:
        got = Outcomes()
        explore_dpor(program, optimal=True, budget=Budget(), outcomes=got)
    return ({project(program, spec, s) for s in got.finals},
            {project(program, spec, s) for s in got.deadlocks})


@dataclass
class WeakCheck:
    weak: bool = False  # tso or pso reaches an outcome sc does not
    lowered: dict[str, Comparison] = field(default_factory=dict)  # tso, pso: compare()
    mismatches: list[tuple[str, str]] = field(default_factory=list)  # (check, message)


def check_weak(spec: Spec) -> WeakCheck:
    out = WeakCheck()
    sc = run(spec, "sc")
    for mm in MODELS:
        ref = run(spec, mm)
        for who in ("census", "optimal"):
            finals, deadlocks = outcomes(spec, mm, who)
            for what, want, got in (("finals", ref.finals, finals),
                                    ("deadlocks", ref.deadlocks, deadlocks)):
                if got != want:
                    out.mismatches.append((
                        f"reference-{mm}",
                        f"{mm} {what}: only in the reference {sorted(want - got)}, "
                        f"only in {who} {sorted(got - want)}",
                    ))
        if mm != "sc" and ref.finals != sc.finals:
            out.weak = True
        if mm != "sc":
            c = out.lowered[mm] = compare(lower(spec.model(registers=True), mm))
            out.mismatches += [(f"{check}-{mm}", msg) for check, msg in c.mismatches]
    return out
