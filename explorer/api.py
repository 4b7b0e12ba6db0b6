"""The Python API the CLI is a thin layer over (tests use it directly)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import catalog as catalog_mod
from .compile.lowering import MEMORY_MODELS, lower
from .compile.program import Program, State, Transition
from .evidence import schedule
from .evidence.explain import decisive_races
from .evidence.schedule import ScheduleFile
from .lang.family import BadInput, describe
from .lang.model import Model, ModelError
from .search import DEFAULT_STRATEGY, STRATEGIES, SYMMETRIC, check_resumable, run
from .search.budget import Budget
from .search.checkpoint import Checkpointer, Plan, identity
from .search.common import deadlock_failure, failure_in
from .search.minimize import context_switches, fewest_switches, shrink
from .search.outcome import CrossCheck, Outcome, Setup, Shrunk
from .search.replay import replay
from .search.result import DEADLOCK, ERROR, HOLDS, VIOLATED, Result, Stats

if TYPE_CHECKING:  # z3 loads only for prove
    from .smt.prove import Proof


def cross_strategy(strategy: str) -> str:
    """The strategy that cross-checks ``strategy``: stateful shares nothing with the
    DPOR explorers, random or naive; optimal checks stateful and graph."""
    return "optimal" if strategy in ("stateful", "graph") else "stateful"


def prepare(
    model: str | None = None,
    scenario: str | None = None,
    settings: Mapping[str, str] | None = None,
    mutant: str | None = None,
    srcu: str = "abstract",
    memory_model: str = "sc",
    catalog: catalog_mod.Catalog | None = None,
    properties: Sequence[str] | None = None,
) -> tuple[Setup, Program]:
    """Resolves names and parameters and compiles the model (BadInput/ModelError on
    failure). With `properties`, only those of the model's properties are checked
    (deadlock-freedom always is)."""
    cat = catalog or catalog_mod.load()
    entry = cat.get(model)
    if properties is not None:
        entry = _only(entry, properties)
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
    if entry.source:
        program = _compile_user(entry, model or entry.source, values, mutant, srcu,
                                memory_model)
    else:
        program = _compile(entry, values, mutant, srcu, memory_model)
    setup = Setup(fam.name, sc.name, describe(fam, sc, settings or {}), values, mutant, srcu,
                  memory_model, entry.source, fam.has_srcu(), fam.source)
    return setup, program


def _only(entry: catalog_mod.Entry, names: Sequence[str]) -> catalog_mod.Entry:
    known = {p.name: p for p in entry.properties}
    for name in names:
        if name not in known and name != DEADLOCK:
            raise BadInput(f"unknown property {name!r} for model {entry.name} (known: "
                           f"{', '.join([*known, DEADLOCK])})")
    kept = tuple(p for p in entry.properties if p.name in names)
    return catalog_mod.Entry(entry.family, kept, entry.source)


def _compile(entry: catalog_mod.Entry, values: Mapping[str, Any], mutant: str | None,
             srcu: str, memory_model: str) -> Program:
    built: Model = entry.family.build(values, mutant, srcu)
    if not isinstance(built, Model):
        raise ModelError(f"{type(entry.family).__name__}.build() returned a "
                         f"{type(built).__name__}, not an explorer.lang.model.Model")
    built = built.with_properties(tuple(p.instantiate(values) for p in entry.properties))
    return Program(lower(built, memory_model))


def _compile_user(entry: catalog_mod.Entry, ref: str, values: Mapping[str, Any],
                  mutant: str | None, srcu: str, memory_model: str) -> Program:
    """A user's model: whatever goes wrong in its code is one line naming the file."""
    try:
        return _compile(entry, values, mutant, srcu, memory_model)
    except BadInput as err:
        raise BadInput(f"{ref}: {err}") from None
    except ModelError as err:
        raise ModelError(f"{ref}: {err}") from None
    except Exception as err:
        line = _user_line(err, entry.source)
        raise BadInput(f"{ref}: building the model failed: {type(err).__name__}: {err}"
                       f"{line}") from None


def _user_line(err: BaseException, source: str) -> str:
    tb, line = err.__traceback__, None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == source:
            line = tb.tb_lineno
        tb = tb.tb_next
    return f" (line {line})" if line is not None else ""


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
    properties: Sequence[str] | None = None,
    checkpoint: Plan | None = None,
) -> Outcome:
    """Explores; on a violation, reports the violating interleaving with the fewest
    context switches (then fewest events) unless `minimize` is off. With
    `cross_check`, then reruns the program with cross_strategy(strategy) (same
    budget): if the two disagree on holds against violated, or the rerun fails,
    the verdict becomes ERROR (outcome.cross.agree is False). With `checkpoint`,
    saves the search as the plan says and resumes plan.resume (a file of another
    run, or not a checkpoint: BadInput); an interrupted run is INCOMPLETE with
    result.checkpoint set, and is cross-checked only once complete."""
    if strategy not in STRATEGIES:
        raise BadInput(f"unknown strategy {strategy!r} (known: {', '.join(STRATEGIES)})")
    if checkpoint is not None:
        check_resumable(strategy)
    if budget is not None and budget.symmetry:
        if strategy not in SYMMETRIC:
            raise BadInput(f"--symmetry reduces the {' and '.join(SYMMETRIC)} strategies "
                           f"only (not {strategy})")
        if checkpoint is not None:
            raise BadInput("--symmetry and --checkpoint do not go together yet")
    setup, program = prepare(model, scenario, settings, mutant, srcu, memory_model,
                             properties=properties)
    symbolic = sorted({d.symbolic for d in program.decls if d.symbolic})
    if symbolic:
        raise BadInput(f"{symbolic[0]}=? is symbolic: explorer check needs a concrete value "
                       "(explorer prove takes it symbolic)")
    ck = None
    if checkpoint is not None:
        ck = Checkpointer(checkpoint, identity(
            program, strategy, (budget or Budget()).max_steps, model=setup.model,
            scenario=setup.scenario, parameters=dict(setup.values), mutant=setup.mutant,
            srcu=setup.srcu, memory_model=setup.memory_model))
    result = run(strategy, program, budget or Budget(), progress, ck)
    outcome = _settle(Outcome(setup, result, program), minimize, explain)
    if cross_check and result.verdict != ERROR and result.checkpoint is None:
        # The cross-check is independent: no reduction of its own.
        _cross_check(outcome, strategy, replace(budget or Budget(), symmetry=False), progress)
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


def settle(outcome: Outcome, explain: bool = False) -> Outcome:
    """A violation found with minimize=False, made readable as check() makes it: the
    interleaving with the fewest context switches, and a shrunk model."""
    return _settle(outcome, True, explain)


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


def prove(
    model: str | None = None,
    scenario: str | None = None,
    settings: Mapping[str, str] | None = None,
    mutant: str | None = None,
    srcu: str = "abstract",
    memory_model: str = "sc",
    bound: int | None = None,
    note: Callable[[str], None] | None = None,
) -> Proof:
    """`explorer prove`: bounded model checking in z3 (loaded only when called); `note`
    hears of each phase as it starts."""
    from .smt.prove import check_bound, prove_program

    check_bound(bound)
    setup, program = prepare(model, scenario, settings, mutant, srcu, memory_model)
    return prove_program(setup, program, bound, dict(settings or {}), _rebuild, note)


def _rebuild(setup: Setup, settings: dict[str, str]) -> tuple[Setup, Program]:
    return prepare(setup.source or setup.model, setup.scenario, settings, setup.mutant,
                   setup.srcu, setup.memory_model)


# -- schedule files ------------------------------------------------------------------


def load_schedule(path: str | Path) -> ScheduleFile:
    """Reads and checks a schedule file, including that the model has its threads.

    Every problem is a BadInput of one line naming the file.
    """
    sf = schedule.load(path)
    _schedule_program(sf)
    return sf


def _where(sf: ScheduleFile) -> str:
    return f"{sf.source}: " if sf.source else "schedule: "


def _schedule_program(sf: ScheduleFile) -> tuple[Setup, Program, list[Transition]]:
    """Rebuilds the model as recorded; the schedule as (thread index, choice) pairs."""
    try:
        setup, program = prepare(
            sf.model_from or sf.model, sf.scenario, settings=sf.parameters, mutant=sf.mutant,
            srcu=sf.srcu, memory_model=sf.memory_model,
        )
    except BadInput as err:
        raise BadInput(f"{_where(sf)}{err}") from None
    index = {t.name: i for i, t in enumerate(program.threads)}
    steps: list[Transition] = []
    for i, st in enumerate(sf.steps, 1):
        if st.thread not in index:
            known = ", ".join(index)
            raise BadInput(
                f"{_where(sf)}step {i}: no thread {st.thread!r} in model {setup.model}, "
                f"scenario {setup.scenario} (threads: {known})"
            )
        steps.append((index[st.thread], st.choice))
    return setup, program, steps


def _check_complete(sf: ScheduleFile, program: Program, state: State) -> None:
    """A run without violation is "not reproduced" only when it is the whole recorded
    run: a final property or deadlock is judged when no thread can move, so a file
    for one that ends while threads still can is cut short (ModelError)."""
    if sf.property not in {p.name for p in program.finals} | {DEADLOCK}:
        return  # an invariant's run ends at its failing step (the file's events say where)
    running = sorted({program.threads[t].name for t, _ in program.transitions(state)})
    if running:
        raise ModelError(
            f"schedule cut short: it ends after {len(sf.steps)} steps, before the recorded "
            f"violation of {sf.property}, while {', '.join(running)} can still run"
        )


def replay_schedule(sf: ScheduleFile) -> Outcome:
    """Re-executes a schedule file: VIOLATED when its violation reproduces, HOLDS with
    reason NOT_REPRODUCED when it runs to its end without one. Raises BadInput for a
    file that does not fit (unknown names) and ModelError "schedule diverges at step
    N: ..." when the model no longer runs the recorded steps."""
    start = time.perf_counter()
    setup, program, steps = _schedule_program(sf)
    records, state = replay(program, steps, [(st.step, st.line) for st in sf.steps])
    checked = [p.name for p in program.invariants + program.finals] + [DEADLOCK]
    failure = failure_in(program, state)
    if failure is not None and not steps and not failure.detail:
        failure = replace(failure, detail="in the initial state")
    n = len(steps)
    stats = Stats(executions=1, schedules=1, states=n + 1, events=n,
                  seconds=time.perf_counter() - start)
    if failure is None:
        _check_complete(sf, program, state)
        result = Result(HOLDS, schedule.REPLAY_STRATEGY, stats, None, list(steps),
                        schedule.NOT_REPRODUCED, checked)
        return Outcome(setup, result, program, records, state)
    result = Result(VIOLATED, schedule.REPLAY_STRATEGY, stats, failure, list(steps), "",
                    checked, sf.minimal)
    return Outcome(setup, result, program, records, state)
