"""`explorer prove`: bounded model checking in z3, every counterexample confirmed concretely.

The bound defaults to the longest execution of the scenario (computed from
the threads' control-flow graphs, `cfg.longest_execution`); then "no
violation" covers every execution and the verdict is HOLDS. A smaller bound
gives INCOMPLETE ("no violation in runs of up to K steps"). A violation is
turned into an explorer schedule and replayed by `trace.replay`; if the
concrete run does not violate, z3 and the explorer disagree, which is a bug
in one of them: the verdict is ERROR, never VIOLATED.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import z3

from ..compile.program import Program, State, Transition
from ..lang.expr import Var, evaluate, variables
from ..lang.family import BadInput
from ..lang.model import ModelError, Property
from ..search.common import failure_in
from ..search.outcome import Outcome, Setup
from ..search.replay import replay
from ..search.result import DEADLOCK, ERROR, HOLDS, INCOMPLETE, VIOLATED, Failure, Result, Stats
from .cfg import Longest, longest_execution
from .encode import input_values, schedule_from_model, unroll, violations

STRATEGY = "z3-bmc"


@dataclass
class Proof:
    """A prove run: the usual Outcome plus what only BMC has."""

    outcome: Outcome
    bound: int
    longest: Longest
    inputs: dict[str, int]  # symbolic inputs: the values of the counterexample
    solve_seconds: float
    encode_seconds: float

    @property
    def complete(self) -> bool:
        return self.longest.steps is not None and self.bound >= self.longest.steps


def symbolic_inputs(program: Program) -> list[str]:
    """Parameters left symbolic (VarDecl.symbolic), in slot order, without repeats."""
    names: list[str] = []
    for decl in program.decls:
        if decl.symbolic and decl.symbolic not in names:
            names.append(decl.symbolic)
    return names


def check_bound(bound: int | None) -> None:
    if bound is not None and bound < 1:
        raise BadInput(f"--bound {bound}: must be at least 1")


# Rebuilds the model of a setup with other parameters (api.prepare's work): the
# concrete model for z3's values of the symbolic inputs.
Rebuild = Callable[[Setup, dict[str, str]], tuple[Setup, Program]]


Note = Callable[[str], None]


def prove_program(
    setup: Setup, program: Program, bound: int | None, settings: dict[str, str],
    rebuild: Rebuild | None = None, note: Note | None = None,
) -> Proof:
    """Proves `program` (as built for `setup` with `settings`) up to `bound` events, by
    default its longest execution; `rebuild` turns a counterexample with symbolic
    inputs into its concrete model (api.prove passes one). `note` hears of each
    phase as it starts (z3 gives no progress within one query)."""
    check_bound(bound)
    say = note or (lambda text: None)
    longest = longest_execution(program)
    if bound is None:
        if longest.steps is None:
            raise BadInput(
                f"the scenario can run forever ({longest.loop} can run again): "
                "give --bound K (the result is then incomplete)"
            )
        bound = longest.steps
    start = time.perf_counter()
    which = "the longest execution" if bound == longest.steps else "--bound"
    say(f"encoding runs of up to {bound} events ({which}) for z3")
    u = unroll(program, bound)
    bad = violations(u, bound, DEADLOCK)
    encoded = time.perf_counter()
    # One query per property: in sum much faster than one query for them all,
    # and the solver keeps what it learnt from one to the next.
    answer = z3.unsat
    for i, (name, term) in enumerate(bad.terms.items(), 1):
        say(f"z3: can {name} fail within {bound} events? (property {i} of {len(bad.terms)})")
        answer = u.solver.check(term)
        if answer != z3.unsat:
            break
    solved = time.perf_counter()
    checked = [p.name for p in program.invariants + program.finals] + [DEADLOCK]
    stats = Stats(states=bound + 1, seconds=solved - start)
    proof = Proof(Outcome(setup, Result(HOLDS, STRATEGY, stats, properties=checked), program),
                  bound, longest, {}, solved - encoded, encoded - start)
    result = proof.outcome.result
    if answer == z3.unknown:
        result.verdict, result.reason = ERROR, f"z3 gave up: {u.solver.reason_unknown()}"
        return proof
    if answer == z3.unsat:
        if not proof.complete:
            result.verdict = INCOMPLETE
            result.reason = (f"no violation in runs of up to {bound} events, but the longest "
                             f"execution has {_longest_text(longest)}")
        return proof
    say("z3 found a violating run: replaying it in the explorer")
    m = u.solver.model()
    schedule = schedule_from_model(u, m)
    proof.inputs = input_values(u, m)
    _confirm(proof, schedule, {name for name, term in bad.terms.items()
                               if z3.is_true(m.eval(term, model_completion=True))}, settings,
             rebuild)
    return proof


def _longest_text(longest: Longest) -> str:
    if longest.steps is None:
        return f"no bound ({longest.loop} can run again)"
    return f"{longest.steps} events"


def _confirm(proof: Proof, schedule: list[Transition], z3_says: set[str],
             settings: dict[str, str], rebuild: Rebuild | None) -> None:
    """Replays z3's run in the explorer; the two must agree on a violation."""
    outcome, result = proof.outcome, proof.outcome.result
    program = outcome.program
    assert program is not None
    if proof.inputs:  # rebuild the model with z3's values for the symbolic inputs
        concrete = {**settings, **{k: str(v) for k, v in proof.inputs.items()}}
        try:
            if rebuild is None:
                raise BadInput("nothing to rebuild the model with")
            setup, program = rebuild(outcome.setup, concrete)
        except (BadInput, ModelError) as err:
            result.verdict = ERROR
            result.reason = f"internal: z3's inputs {proof.inputs} do not build a model: {err}"
            return
        outcome.setup, outcome.program = setup, program
    try:
        _, end = replay(program, schedule)
        explorer_says = _all_failures(program, end)
        if explorer_says != z3_says:
            result.verdict = ERROR
            result.reason = (
                "internal: z3 and the explorer disagree on the state after "
                f"{len(schedule)} events: z3 finds {_names(z3_says)} violated, the explorer's "
                f"replay finds {_names(explorer_says)}"
            )
            return
        schedule, failure = _first_violation(program, schedule)
        outcome.trace, outcome.final_state = replay(program, schedule)
    except ModelError as err:
        result.verdict, result.reason = ERROR, (
            f"internal: z3's counterexample does not run in the explorer: {err}")
        return
    assert failure is not None  # the end state violates, so some state does
    result.verdict, result.failure, result.schedule = VIOLATED, failure, schedule
    result.stats.events = len(schedule)


def _first_violation(
    program: Program, schedule: list[Transition]
) -> tuple[list[Transition], Failure | None]:
    """The schedule cut at the first state where the explorer sees a violation.

    z3 only says the last state violates; an invariant may already fail
    earlier, and a schedule file stops at the first violation.
    """
    s = program.initial_state()
    failure = failure_in(program, s)
    for n, (t, v) in enumerate(schedule):
        if failure is not None:
            return schedule[:n], failure
        if (t, v) not in program.transitions(s):
            raise ModelError(f"step {n + 1}: thread {program.threads[t].name} cannot run")
        program.execute(s, t, v)
        failure = failure_in(program, s)
    return schedule, failure


def _names(names: set[str]) -> str:
    return ", ".join(sorted(names)) or "nothing"


def _all_failures(program: Program, s: State) -> set[str]:
    """Every property the state violates, as `violations` states them for z3."""
    out = {p.name for p in program.invariants if not _holds(program, s, p)}
    if not program.transitions(s):
        if not program.finished(s):
            if not program.cut_off(s):  # a cut-off run is no deadlock (Program.cut_off)
                out.add(DEADLOCK)
        else:
            out |= {p.name for p in program.finals if not _holds(program, s, p)}
    return out


def _holds(program: Program, s: State, prop: Property) -> bool:
    """The reference interpreter's verdict (not the compiled check: a second opinion)."""
    lookup: dict[Var, int] = {v: s[program.slot[v]] for v in variables(prop.expr)}
    return evaluate(prop.expr, lookup) != 0


def concrete_setup(proof: Proof) -> Setup:
    """The setup with z3's values for the symbolic inputs (for schedule files)."""
    s = proof.outcome.setup
    return replace(s, values={**s.values, **proof.inputs})
