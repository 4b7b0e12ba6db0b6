"""The Python API the CLI is a thin layer over (tests use it directly)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import catalog as catalog_mod
from .budget import Budget
from .explain import Race, decisive_races
from .family import BadInput
from .memory import MEMORY_MODELS, lower
from .model import Model, ModelError
from .program import Program, State, StepRecord, Transition
from .result import DEADLOCK, ERROR, EXIT_CODES, HOLDS, INCOMPLETE, VIOLATED, Result
from .search import DEFAULT_STRATEGY, STRATEGIES, run
from .search.common import deadlock_failure
from .search.minimize import context_switches, fewest_switches, shrink
from .trace import replay


@dataclass(frozen=True)
class Setup:
    """Everything that identifies one check, as the user asked for it."""

    model: str
    scenario: str
    scenario_description: str
    values: Mapping[str, Any]
    mutant: str | None
    srcu: str
    memory_model: str


@dataclass(frozen=True)
class CrossCheck:
    """The same program rerun with an independent strategy (check --cross-check)."""

    strategy: str
    verdict: str
    executions: int
    seconds: float
    # True: the same complete verdict; False: holds against violated, or the rerun
    # failed (then the outcome is an internal error); None: a run was incomplete.
    agree: bool | None
    reason: str = ""  # the rerun's: why it is incomplete, or its error


def cross_strategy(strategy: str) -> str:
    """The strategy that cross-checks ``strategy``: stateful shares nothing with the
    DPOR explorers, random or naive; optimal checks stateful."""
    return "optimal" if strategy == "stateful" else "stateful"


@dataclass
class Outcome:
    setup: Setup
    result: Result
    program: Program | None
    trace: list[StepRecord] | None = None
    final_state: State | None = None
    races: list[Race] | None = None  # with explain: the races that decided the violation
    shrunk: Shrunk | None = None  # a smaller model that still violates (final/deadlock)
    work: str = ""  # how the verdict was reached when not by exploration (explorer prove)
    cross: CrossCheck | None = None  # with cross_check

    @property
    def exit_code(self) -> int:
        """The verdict's, except that HOLDS is not cross-checked when the rerun ran out
        of budget: 3 (a violation stands: it was replayed)."""
        cross = self.cross
        if cross is not None and cross.verdict == INCOMPLETE and self.result.verdict == HOLDS:
            return EXIT_CODES[INCOMPLETE]
        return self.result.exit_code


@dataclass
class Shrunk:
    dropped: list[str]
    program: Program
    schedule: list[Transition]
    trace: list[StepRecord]


def prepare(
    model: str | None = None,
    scenario: str | None = None,
    settings: Mapping[str, str] | None = None,
    mutant: str | None = None,
    srcu: str = "abstract",
    memory_model: str = "sc",
    catalog: catalog_mod.Catalog | None = None,
) -> tuple[Setup, Program]:
    """Resolves names and parameters and compiles the model (BadInput/ModelError on failure)."""
    cat = catalog or catalog_mod.load()
    entry = cat.get(model)
    fam = entry.family
    sc = fam.scenario(scenario)
    fam.mutant(mutant)
    if srcu not in fam.srcu_models:
        raise BadInput(f"unknown SRCU model {srcu!r} (known: {', '.join(fam.srcu_models)})")
    if memory_model not in MEMORY_MODELS:
        raise BadInput(
            f"unknown memory model {memory_model!r} (known: {', '.join(MEMORY_MODELS)})"
        )
    values = fam.resolve(sc, settings or {})
    built: Model = fam.build(values, mutant, srcu)
    built = built.with_properties(tuple(p.instantiate(values) for p in entry.properties))
    program = Program(lower(built, memory_model))
    setup = Setup(fam.name, sc.name, sc.description, values, mutant, srcu, memory_model)
    return setup, program


def check(
    model: str | None = None,
    scenario: str | None = None,
    settings: Mapping[str, str] | None = None,
    mutant: str | None = None,
    strategy: str = DEFAULT_STRATEGY,
    budget: Budget | None = None,
    srcu: str = "abstract",
    memory_model: str = "sc",
    progress: bool | None = False,
    minimize: bool = True,
    explain: bool = False,
    cross_check: bool = False,
) -> Outcome:
    """Explores; on a violation, reports the violating interleaving with the fewest
    context switches (then fewest events) unless `minimize` is off. With
    `cross_check`, then reruns the program with cross_strategy(strategy) (same
    budget): if the two disagree on holds against violated, or the rerun fails,
    the verdict becomes ERROR (outcome.cross.agree is False)."""
    if strategy not in STRATEGIES:
        raise BadInput(f"unknown strategy {strategy!r} (known: {', '.join(STRATEGIES)})")
    setup, program = prepare(model, scenario, settings, mutant, srcu, memory_model)
    symbolic = sorted({d.symbolic for d in program.decls if d.symbolic})
    if symbolic:
        raise BadInput(f"{symbolic[0]}=? is symbolic: explorer check needs a concrete value "
                       "(explorer prove takes it symbolic)")
    result = run(strategy, program, budget or Budget(), progress)
    outcome = _settle(Outcome(setup, result, program), minimize, explain)
    if cross_check and result.verdict != ERROR:
        _cross_check(outcome, strategy, budget or Budget(), progress)
    return outcome


def _cross_check(outcome: Outcome, strategy: str, budget: Budget, progress: bool | None
                 ) -> None:
    result, program = outcome.result, outcome.program
    assert program is not None
    second = cross_strategy(strategy)
    other = run(second, program, budget, progress)
    decided = (HOLDS, VIOLATED)
    agree: bool | None = None
    if other.verdict == ERROR:
        agree = False
    elif result.verdict in decided and other.verdict in decided:
        agree = result.verdict == other.verdict
    outcome.cross = CrossCheck(second, other.verdict, other.stats.executions,
                               other.stats.seconds, agree, other.reason)
    if agree is False:
        reason = (f"internal: cross-check failed: strategy {strategy} says "
                  f"{_said(result)} but strategy {second} says {_said(other)}")
        result.verdict, result.reason = ERROR, reason


def _said(r: Result) -> str:
    if r.verdict == VIOLATED and r.failure is not None:
        return f"violated ({r.failure.name})"
    if r.verdict == ERROR:
        return f"error ({r.reason})"
    return r.verdict


def _settle(outcome: Outcome, minimize: bool, explain: bool) -> Outcome:
    """A violation's easiest interleaving, replayed, and what the report needs of it."""
    program, result = outcome.program, outcome.result
    assert program is not None
    if result.verdict == VIOLATED and result.schedule is not None and result.failure is not None:
        if minimize:
            easier = fewest_switches(program, result.failure.name)
            if easier is not None and (context_switches(easier), len(easier)) <= (
                context_switches(result.schedule), len(result.schedule)
            ):
                result.schedule, result.minimal = easier, True
        try:
            outcome.trace, outcome.final_state = replay(program, result.schedule)
        except ModelError as err:  # the explorer and the replay disagree: a bug
            result.verdict, result.reason = ERROR, f"internal: counterexample replay failed: {err}"
            return outcome
        if result.failure.name == DEADLOCK:  # who is stuck where, in this run
            result.failure = deadlock_failure(program, outcome.final_state)
        invariants = {p.name for p in program.invariants}
        if minimize and result.failure.name not in invariants:
            # Every thread runs to its end in such a counterexample: find out which
            # threads and operations it needs by removing them from the model.
            small = shrink(program.model, result.failure.name)
            if small is not None:
                records, _ = replay(small[0], small[1])
                outcome.shrunk = Shrunk(small[2], small[0], small[1], records)
        if explain:
            outcome.races = decisive_races(
                program, result.schedule, outcome.trace, result.failure.name
            )
    return outcome
