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
from .result import DEADLOCK, ERROR, VIOLATED, Result
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
) -> Outcome:
    """Explores; on a violation, reports the violating interleaving with the fewest
    context switches (then fewest events) unless `minimize` is off."""
    if strategy not in STRATEGIES:
        raise BadInput(f"unknown strategy {strategy!r} (known: {', '.join(STRATEGIES)})")
    setup, program = prepare(model, scenario, settings, mutant, srcu, memory_model)
    symbolic = sorted({d.symbolic for d in program.decls if d.symbolic})
    if symbolic:
        raise BadInput(f"{symbolic[0]}=? is symbolic: explorer check needs a concrete value "
                       "(explorer prove takes it symbolic)")
    result = run(strategy, program, budget or Budget(), progress)
    outcome = Outcome(setup, result, program)
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
