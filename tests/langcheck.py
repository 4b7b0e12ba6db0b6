"""The differential check of one program of tests/langgen.py, and a shrinker.

``check(spec)`` runs, on the model (and for the ``weak`` class, or with
``lowered`` for any class, on its TSO and PSO lowerings as well, check names
then end in ``-tso``/``-pso``):

- the brute-force census (explorer.search.oracle), naive and stateful DFS,
  source-set DPOR and optimal DPOR, both stopping at the first violation and
  in collect mode (``outcomes=``), compared as randprog.compare does (its
  check names: optimal-count, dpor-outcomes, naive, ...): every strategy
  says holds or violated as the census does, a violated property is one the
  census violates, optimal explores exactly one execution per class and
  dpor at least one, collect mode reaches the census's finals, deadlocks
  and violations (collect mode and the census go on past a violation, so
  counts are compared on every program). A strategy that raises or reports
  an error is ``error``.
- ``prove`` (z3, explorer/smt) when the longest execution has at most
  PROVE_MAX_EVENTS events: its verdict against the census, and one query
  per property: z3 violates exactly the properties the census violates.
- ``reference``: the independent interpreter tests/langref.py against the
  census: the same schedules, final memories, deadlocked memories and
  violations (it shares nothing with explorer.compile.program but the model).
- ``refused``: a program the engine must refuse at load (an invalid retry
  loop; a sticky invariant that a reachable step makes true again, found by
  tests/langref.py) was accepted; ``refused-valid``: a valid one was refused
  (a sticky invariant that is not a latch may go either way: the engine
  proves stickiness over all states, reachable or not). A refused program is checked
  no further (that it is refused *is* the check). While the engine still
  accepts them, they go through every other check too.
- retry programs: ``retry-reference`` and ``retry-unrolled`` (below).
- weak programs drawn by randprog (Spec.origin): ``memref-MM``, the final and
  deadlock outcomes of census and optimal DPOR on the lowered model against
  tests/memref.py's interpreter of the machines (as tests/weakcheck.py);
  all weak programs: ``weak-monotone``, SC's final and deadlocked memories
  are TSO's, and TSO's are PSO's (each machine allows every execution of
  the stronger one).

Retry programs, and why the reference is what it is. A retry step is never
taken (Program.cut_off): a run whose scan failed ends there, and the claim
is that this loses nothing. The reference form (langgen.reference_form)
takes the retry for real, as an ordinary step back to the loop head, so
that a scan that can never succeed spins for ever. The census cannot run
that form (its runs are unbounded), so tests/langref.py explores its state
graph instead, which is finite for a *valid* loop: the body writes only
locals that are dead at the head, so an attempt is a function of shared
memory and the states of a spinning thread repeat. There, a final state is
one where every thread returned; a thread that can spin for ever without
anything else able to change is a *bottom* strongly connected component of
the graph, the real form of a deadlock (the guard-blocked deadlocks are its
one-state case). The cut-off form must reach exactly the same final
memories, deadlocked memories (a bottom component's memory is constant: the
body writes no shared or ghost location) and violations, because (i) any
real run can drop the failed attempts of a valid loop (they read and write
nothing anyone else sees, and leave no live local) and so is a cut-off run
plus spinning, and (ii) a cut-off run that ends at a retry no other thread
can change is such a bottom component (``retry-reference``). For an invalid
loop (a body that writes shared or ghost state, or a live local such as an
attempt counter) the state graph may be infinite, so the reference there is
a bounded unrolling (RETRY_UNROLL attempts, the last one cut off): an
under-approximation of the real runs, so its final memories and violations
must be among the cut-off form's (``retry-unrolled``, checked for every
retry program).
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import langgen as lg
import langref
import memref
import randprog as rp
import symcheck
import weakcheck
from randprog import _outcome_diff, _verdict_problem

from explorer import api
from explorer.compile.lowering import lower
from explorer.compile.program import Program
from explorer.lang.expr import TRUE, BinOp, Const, Expr, Ite, UnOp, variables, walk
from explorer.lang.model import (
    DONE,
    Choice,
    Model,
    ModelError,
    Operation,
    Step,
    Switch,
    Thread,
    validate,
)
from explorer.memory.weak import unsupported as weak_unsupported
from explorer.search.budget import Budget, OutOfBudget
from explorer.search.dfs import explore
from explorer.search.dpor import Outcomes, explore_dpor
from explorer.search.graph import collect_graph, explore_graph, ghosts_off
from explorer.search.oracle import census
from explorer.search.result import DEADLOCK, HOLDS
from explorer.smt import encode
from explorer.smt.cfg import longest_execution
from explorer.smt.prove import prove_program

PROVE_MAX_EVENTS = 12
RETRY_UNROLL = 2  # attempts of each retry loop in the unrolled reference
CENSUS_LIMIT = 200_000
GRAPH_MAX_SCHEDULES = 3_000  # census schedules past which the graph check is skipped
GRAPH_MAX_EVENTS = 4_000  # accesses the graph strategy adds before the check gives up on it
BUDGET = Budget(timeout=120)  # a strategy that runs away is an error, not a hang of the soak

T = TypeVar("T")

CHECKS = rp.CHECKS + ("prove", "reference", "refused", "refused-valid", "retry-reference",
                      "retry-unrolled", "memref-sc", "memref-tso", "memref-pso",
                      "weak-monotone")


@dataclass
class LangCheck:
    """Every check on one program; counts are summed over the memory models checked."""

    shape: str = ""
    classes: int = 0  # Mazurkiewicz classes (census)
    schedules: int = 0  # complete schedules (census)
    optimal: int = 0
    dpor: int = 0
    graph: int = 0  # executions of the graph strategy (on the programs small enough for it)
    symmetric: int = 0  # runs of the program with its first thread twice compared (symcheck)
    dpor_sleep_blocked: int = 0  # dpor runs cut short by their sleep set
    violated: bool = False  # the census violates a property or deadlocks
    refused: bool = False  # refused at load, as it must or may be
    must_refuse: bool = False  # an invalid retry loop, or a sticky invariant a step undoes
    proved: bool = False  # prove ran
    lowered: bool = False  # checked on its TSO and PSO lowerings too
    weak_behaviour: bool = False  # weak: TSO or PSO reaches a final memory SC does not
    mismatches: list[tuple[str, str]] = field(default_factory=list)  # (check, message)

    def failed(self, *checks: str) -> list[str]:
        return [m for c, m in self.mismatches if not checks or c in checks]

    @property
    def checks(self) -> set[str]:
        return {c for c, _ in self.mismatches}


@dataclass
class _Run:
    """What one model's differential check leaves for the cross-model checks."""

    program: Program
    census: Outcomes
    optimal: Outcomes


def check(spec: lg.Spec, prove: bool = True, lowered: bool = False,
          symmetric: bool = False) -> LangCheck:
    """Every check on ``spec`` (``prove=False``: all but z3, which is slow).
    ``lowered``: a program of another class than ``weak`` is checked on its TSO
    and PSO lowerings too, when memory.lower takes it (a store in a loop it
    refuses) and the lowering is small enough for the census. ``symmetric``:
    the program with its first thread run twice is checked with --symmetry
    against the graphs without (tests/symcheck.py), when small enough."""
    out = LangCheck(spec.shape)
    bad = out.mismatches.append
    m = spec.m
    # Retry loops have exact rules (langgen.retry_problems). A sticky invariant
    # must be refused when a reachable step makes it true again, must be
    # accepted when it is a latch (langgen.sticky_problems finds nothing), and
    # may go either way otherwise (the engine proves over all states, reachable
    # or not).
    bad_retry = "; ".join(lg.retry_problems(m))
    not_latch = "; ".join(lg.sticky_problems(m))
    out.must_refuse = bool(bad_retry)
    try:
        Program(m)
    except ModelError as err:
        if not_latch and not bad_retry:
            out.must_refuse = bool(_guard(out, "the sticky witness", langref.sticky_witness, m))
        if bad_retry or (not_latch and "declared sticky" in str(err)):
            out.refused = True
        else:
            bad(("refused-valid", f"refused a valid program: {err}"))
        return out
    if bad_retry:
        bad(("refused", f"accepted, but must be refused: {bad_retry}"))
    witness = _guard(out, "the sticky witness", langref.sticky_witness, m) if not_latch else ""
    if witness:
        out.must_refuse = True
        bad(("refused", f"accepted a sticky invariant that is not: {witness}"))
    runs: dict[str, _Run] = {}
    weak = spec.shape == "weak" or (lowered and _lowerable(m))
    out.lowered = weak
    for mm in ("sc", "tso", "pso") if weak else ("sc",):
        suffix = "" if mm == "sc" else f"-{mm}"
        try:
            on_mm = lower(m, mm)
        except ModelError as err:
            bad(("error", f"lowering to {mm}: {err}"))
            continue
        run = _differential(on_mm, out, suffix, prove)
        if run is not None:
            runs[mm] = run
    if lg.has_retry(m) and "sc" in runs:
        if not spec.refuse:
            _retry_reference(m, runs["sc"], out)
        _retry_unrolled(m, runs["sc"], out)
    if symmetric:
        _symmetry(m, spec.shape == "weak", out)
    if weak and len(runs) == 3:
        _weak_monotone(m, runs, out)
        if spec.origin is not None and spec.shape == "weak":  # its model keeps registers
            _memref(spec.origin, runs, out)
    return out


def _symmetry(m: Model, weak: bool, out: LangCheck) -> None:
    """The graph strategy's --symmetry on m with its first thread run twice: every
    orbit of the graphs explored without it, each once, the same outcomes."""
    d = symcheck.doubled(m)
    if d is None:
        return
    for mm in ("sc", "tso") if weak else ("sc",):
        try:  # None: too big, or not under a predicate (memory.weak.unsupported)
            problems = symcheck.compare(d, mm, GRAPH_MAX_EVENTS)
        except Exception as err:  # noqa: BLE001 - any crash is a finding
            out.mismatches.append(("symmetry", f"--symmetry crashed: {type(err).__name__}: {err}"))
            continue
        if problems is not None:
            out.symmetric += 1
            out.mismatches.extend(("symmetry", p) for p in problems)


def _lowerable(m: Model) -> bool:
    try:
        return lg.schedules(m, weak=True) <= lg.WEAK_MAX_SCHEDULES
    except ModelError:  # a store inside a loop: no bounded store buffer
        return False


def _guard(out: LangCheck, what: str, fn: Callable[..., T], *args: Any, **kw: Any
           ) -> T | None:
    """fn(*args, **kw), or None with an ``error`` mismatch if it raises."""
    try:
        return fn(*args, **kw)
    except Exception as err:  # an engine crash is a finding
        last = traceback.format_exception_only(type(err), err)[-1].strip()
        out.mismatches.append(("error", f"{what} raised {last}"))
        return None


def _differential(model: Model, out: LangCheck, suffix: str, prove: bool = True
                  ) -> _Run | None:
    def bad(check: str, msg: str) -> None:
        out.mismatches.append((check + suffix, msg))

    program = _guard(out, "Program", Program, model)
    if program is None:
        return None
    cen = _guard(out, "census", census, program, CENSUS_LIMIT)
    if cen is None:
        return None
    classes = len(cen.classes)
    out.classes += classes
    out.schedules += cen.executions
    want = cen.outcomes
    out.violated |= bool(want.violations)
    collected = Outcomes()
    for optimal in (True, False):
        name = "optimal" if optimal else "dpor"
        got = Outcomes()
        r = _guard(out, name, explore_dpor, program, optimal=optimal, budget=BUDGET,
                   outcomes=got)
        if r is None:
            continue
        if optimal:
            collected = got
        if r.verdict != HOLDS:
            bad("error", f"{name} (collect mode): {r.verdict} {r.reason}")
        execs = r.stats.executions
        if optimal:
            out.optimal += execs
            if execs != classes:
                bad("optimal-count", f"optimal ran {execs} executions for {classes} classes")
            if r.stats.sleep_blocked:
                bad("optimal-sleep-blocked", f"optimal: {r.stats.sleep_blocked} sleep-blocked")
        else:
            out.dpor += execs
            out.dpor_sleep_blocked += r.stats.sleep_blocked
            if execs < classes:
                bad("dpor-count", f"dpor ran {execs} executions for {classes} classes")
        if got != want:
            bad(f"{name}-outcomes", f"{name}: {_outcome_diff(got, want)}")
        r = _guard(out, name, explore_dpor, program, optimal=optimal, budget=BUDGET)
        if r is not None and (problem := _verdict_problem(r, want)):
            bad(f"{name}-verdict", f"{name}: {problem}")
    for cache in (False, True):
        name = "stateful" if cache else "naive"
        r = _guard(out, name, explore, program, cache=cache, budget=BUDGET)
        if r is None:
            continue
        problem = _verdict_problem(r, want)
        if not problem and r.verdict == HOLDS and r.stats.schedules != cen.executions:
            problem = f"counted {r.stats.schedules} schedules, census has {cen.executions}"
        if problem:
            bad(name, f"{name}: {problem}")
    _graph(model, program, cen, out, suffix)
    if prove:
        _prove(program, want, out, suffix)
    _reference(model, program, cen.executions, want, out, suffix)
    return _Run(program, want, collected)


def project(states: set[tuple[int, ...]], lowered: Program, p: Program) -> set[tuple]:
    """States of a store-buffer program as states of the model it came from."""
    def occurrences(names: list[str]) -> list[tuple[str, int]]:
        seen: dict[str, int] = {}
        out = []
        for n in names:
            seen[n] = seen.get(n, 0) + 1
            out.append((n, seen[n]))
        return out
    at = {n: i for i, n in enumerate(occurrences(lowered.names))}
    return {tuple(s[at[n]] for n in occurrences(p.names)) for s in states}


def _graph(model: Model, program: Program, cen: Any, out: LangCheck, suffix: str) -> None:
    """The graph strategy against the census: the same outcomes and verdict, each
    graph once (one per Mazurkiewicz class where its graphs are the classes). A
    store-buffer program is checked through the model it came from, under
    memory.weak's predicate (the strategy's own choice); where the predicate does
    not apply, the store-buffer program itself is too slow for the graph strategy
    and is skipped."""
    def bad(check: str, msg: str) -> None:
        out.mismatches.append((check + suffix, msg))

    if cen.executions > GRAPH_MAX_SCHEDULES:
        return  # the census is the yardstick: past this the graph strategy costs too much
    want = cen.outcomes
    src = model.lowered
    try:
        if src is None:
            got, stats, keys = collect_graph(program, max_events=GRAPH_MAX_EVENTS)
        else:
            base = Program(src[0])
            if weak_unsupported(base) is not None:
                return
            got, stats, keys = collect_graph(base, max_events=GRAPH_MAX_EVENTS, mm=src[1])
            want = Outcomes(project(want.finals, program, base),
                            project(want.deadlocks, program, base), set(want.violations))
    except OutOfBudget:
        return
    except Exception as err:  # noqa: BLE001 - any crash is a finding
        bad("graph", f"graph (collect mode) crashed: {type(err).__name__}: {err}")
        return
    out.graph += stats.executions
    if got != want:
        bad("graph-outcomes", f"graph: {_outcome_diff(got, want)}")
    if len(set(keys)) != len(keys):
        bad("graph-count", f"graph explored {len(keys) - len(set(keys))} graphs twice")
    if src is None and not ghosts_off(program) and set(keys) != cen.classes:
        bad("graph-count", f"graph: {len(cen.classes - set(keys))} classes never explored, "
            f"{len(set(keys) - cen.classes)} graphs that are no class")
    r = _guard(out, "graph", explore_graph, program, BUDGET)
    if r is not None and (problem := _verdict_problem(r, cen.outcomes)):
        bad("graph-verdict", f"graph: {problem}")


def _prove(program: Program, want: Outcomes, out: LangCheck, suffix: str) -> None:
    longest = longest_execution(program)
    if longest.steps is None or longest.steps > PROVE_MAX_EVENTS:
        return
    out.proved = True
    setup = api.Setup("gen", "random", "", {}, None, "abstract", "sc")
    proof = _guard(out, "prove", prove_program, setup, program, None, {})
    if proof is not None and (problem := _verdict_problem(proof.outcome.result, want)):
        out.mismatches.append(("prove" + suffix, f"prove: {problem}"))
    # Every (program, property) pair: one z3 query per property, on the same unrolling.
    found = _guard(out, "prove per property", _z3_violations, program, longest.steps)
    if found is not None and found != want.violations:
        out.mismatches.append(("prove" + suffix, f"prove per property: z3 violates "
                               f"{sorted(found)}, the census {sorted(want.violations)}"))


def _z3_violations(program: Program, bound: int) -> set[str]:
    """The properties some run of up to ``bound`` events violates, by z3 (an
    unknown answer is an error: it proves nothing either way)."""
    import z3

    u = encode.unroll(program, bound)
    out = set()
    for name, term in encode.violations(u, bound, DEADLOCK).terms.items():
        answer = u.solver.check(term)
        if answer == z3.unknown:
            raise RuntimeError(f"z3 gave up on {name}")
        if answer == z3.sat:
            out.add(name)
    return out


def _memories(model: Model, program: Program, states: set[tuple[int, ...]]
              ) -> set[tuple[int, ...]]:
    return {langref.memory(model, s, program.slot) for s in states}


def _diff(what: str, got: set[Any], want: set[Any], who: str = "census") -> str:
    if got == want:
        return ""
    return (f"{what}: only in the reference {sorted(want - got)[:4]}, "
            f"only in the {who} {sorted(got - want)[:4]}")


def _reference(model: Model, program: Program, schedules: int, want: Outcomes,
               out: LangCheck, suffix: str) -> None:
    ref = _guard(out, "the reference interpreter", langref.explore, model)
    if ref is None:
        return
    problems = [
        _diff("finals", _memories(model, program, want.finals), ref.finals),
        _diff("violations", want.violations, ref.violations),
    ]
    dead = _memories(model, program, want.deadlocks)
    if lg.has_retry(model):
        # A run ending at a retry is cut off or deadlocked as the census decides;
        # retry-reference judges that. Here: every other deadlock, and no more.
        if not ref.stuck <= dead:
            problems.append(f"deadlocks only in the reference: {sorted(ref.stuck - dead)[:4]}")
        if not dead <= ref.stuck | ref.retry_ends:
            problems.append("deadlocks only in the census: "
                            f"{sorted(dead - ref.stuck - ref.retry_ends)[:4]}")
        problems[1] = _diff("violations", want.violations - {DEADLOCK},
                            ref.violations - {DEADLOCK})
    else:
        problems.append(_diff("deadlocks", dead, ref.stuck))
    if ref.schedules != schedules:
        problems.append(f"{ref.schedules} schedules, census {schedules}")
    for p in problems:
        if p:
            out.mismatches.append(("reference" + suffix, p))


def _retry_reference(m: Model, run: _Run, out: LangCheck) -> None:
    """A valid loop's cut-off form against its real form (see the module docstring)."""
    ref = _guard(out, "the retry reference", langref.explore, lg.reference_form(m))
    if ref is None:
        return
    cut = run.census
    for p in (
        _diff("finals", _memories(m, run.program, cut.finals), ref.finals, "cut-off form"),
        _diff("deadlocks and hangs", _memories(m, run.program, cut.deadlocks), ref.stuck,
              "cut-off form"),
        _diff("violations", cut.violations, ref.violations, "cut-off form"),
    ):
        if p:
            out.mismatches.append(("retry-reference", p))


def unroll(m: Model, attempts: int = RETRY_UNROLL) -> Model:
    """Each operation with a retry step copied ``attempts`` times: a retry in copy j
    jumps, as an ordinary step, to its loop head in copy j + 1; the last copy's
    retries stay retries (never taken)."""
    threads = []
    for t in m.threads:
        ops = []
        for o in t.ops:
            if not any(s.retry for s in o.steps):
                ops.append(o)
                continue
            steps: list[Step] = []
            for j in range(attempts):
                def name(label: str, j: int = j) -> str:
                    return label if label == DONE or j == 0 else f"{label}.{j}"

                for s in o.steps:
                    nxt = s.next
                    if s.retry and j + 1 < attempts:
                        assert isinstance(nxt, str)
                        steps.append(lg.restep(s, label=name(s.label), retry=False,
                                               next=name(nxt, j + 1)))
                        continue
                    if isinstance(nxt, Switch):
                        nxt = Switch(tuple((c, name(lbl)) for c, lbl in nxt.cases),
                                     name(nxt.default))
                    else:
                        nxt = name(nxt)
                    steps.append(lg.restep(s, label=name(s.label), next=nxt))
            ops.append(Operation(o.name, o.args, o.entry, tuple(steps), o.locals))
        threads.append(Thread(t.name, tuple(ops), t.cpu, t.daemon, t.bound))
    return Model(m.name, m.shared, m.ghosts, tuple(threads), m.properties, m.description)


def _retry_unrolled(m: Model, run: _Run, out: LangCheck) -> None:
    ref = _guard(out, "the unrolled reference", langref.explore, unroll(m))
    if ref is None:
        return
    cut = run.census
    finals = _memories(m, run.program, cut.finals)
    extra = ref.finals - finals
    if extra:
        out.mismatches.append(("retry-unrolled", f"finals after {RETRY_UNROLL} attempts that "
                               f"the cut-off form never reaches: {sorted(extra)[:4]}"))
    missed = ref.violations - cut.violations - {DEADLOCK}
    if missed:
        out.mismatches.append(("retry-unrolled", f"violated after {RETRY_UNROLL} attempts, "
                               f"never in the cut-off form: {sorted(missed)}"))


def _weak_monotone(m: Model, runs: dict[str, _Run], out: LangCheck) -> None:
    def mem(mm: str, states: set[tuple[int, ...]]) -> set[tuple[int, ...]]:
        return _memories(m, runs[mm].program, states)

    sc = mem("sc", runs["sc"].census.finals)
    out.weak_behaviour = any(mem(mm, runs[mm].census.finals) != sc for mm in ("tso", "pso"))
    for weaker, stronger in (("tso", "sc"), ("pso", "tso")):
        for what in ("finals", "deadlocks"):
            lost = (mem(stronger, getattr(runs[stronger].census, what))
                    - mem(weaker, getattr(runs[weaker].census, what)))
            if lost:
                out.mismatches.append(("weak-monotone", f"{what} of {stronger} missing "
                                       f"under {weaker}: {sorted(lost)[:4]}"))


def _memref(origin: rp.Spec, runs: dict[str, _Run], out: LangCheck) -> None:
    for mm, run in runs.items():
        ref = memref.run(origin, mm)
        for who, got in (("census", run.census), ("optimal", run.optimal)):
            for what, want, states in (("finals", ref.finals, got.finals),
                                       ("deadlocks", ref.deadlocks, got.deadlocks)):
                have = {weakcheck.project(run.program, origin, s) for s in states}
                if have != want:
                    out.mismatches.append((
                        f"memref-{mm}", f"{mm} {what}: only in the reference "
                        f"{sorted(want - have)[:4]}, only in {who} {sorted(have - want)[:4]}"))


# -- shrinking -----------------------------------------------------------------------


def shrink(spec: lg.Spec, target: str, seconds: float = 60.0,
           checker: Callable[[lg.Spec], LangCheck] | None = None) -> lg.Spec:
    """A smaller program on which ``target`` still fails: greedy passes over
    candidates (drop a thread, an operation, a step, a property, an assignment;
    simpler guards, branches, constants, choices) until none helps or time is up.
    A candidate must stay as small as the census needs, add no loop, and not
    make an invariant false in the initial state (a corner of its own) unless
    the program started there."""
    if checker is None:
        with_z3 = target.startswith("prove")

        def checker(s: lg.Spec) -> LangCheck:
            return check(s, prove=with_z3)

    deadline = time.monotonic() + seconds
    weak = spec.shape == "weak"
    limit = lg.WEAK_MAX_SCHEDULES if weak else lg.MAX_SCHEDULES
    initially_false = _initially_false(spec.m)

    def fails(s: lg.Spec) -> bool:
        try:
            if lg.schedules(s.m, weak) > limit or (_initially_false(s.m) and not initially_false):
                return False
            return target in checker(s).checks
        except Exception:
            return False

    best = spec
    improved = True
    while improved and time.monotonic() < deadline:
        improved = False
        for cand in _candidates(best):
            if time.monotonic() >= deadline:
                break
            if fails(cand):
                best, improved = cand, True
                break
    if best.origin is None:
        tidy = tidied(best.m)
        cand = lg.Spec(best.shape, tidy, refuse=lg.expected_refusal(tidy))
        if tidy != best.m and fails(cand):
            best = cand
    return best


def tidied(m: Model) -> Model:
    """``m`` without the variables and locals nothing uses any more."""
    used = {n for _, _, s in lg.iter_steps(m) for n in s.reads + s.writes}
    used |= {v.name for _, _, s in lg.iter_steps(m) for e in lg._exprs(s) for v in variables(e)}
    used |= {v.name for p in m.properties for v in variables(p.expr)}
    threads = []
    for t in m.threads:
        ops = []
        for o in t.ops:
            mine = {v.name for s in o.steps for e in lg._exprs(s) for v in variables(e)}
            mine |= {v.name for s in o.steps for v, _ in s.update}
            mine |= {s.choose.local for s in o.steps if s.choose is not None}
            ops.append(Operation(o.name, o.args, o.entry, o.steps,
                                 {k: d for k, d in o.locals.items() if k in mine}))
        threads.append(Thread(t.name, tuple(ops), t.cpu, t.daemon, t.bound))
    return Model(m.name, {k: d for k, d in m.shared.items() if k in used},
                 {k: d for k, d in m.ghosts.items() if k in used}, tuple(threads),
                 m.properties, m.description)


def _initially_false(m: Model) -> bool:
    try:
        it = langref.Interp(m)
        return it.failing(it.initial(), it.invariants) is not None
    except langref.RefError:
        return False


def _candidates(spec: lg.Spec) -> list[lg.Spec]:
    out: list[lg.Spec] = []
    if spec.origin is not None:
        for o in _origin_candidates(spec.origin):
            out.append(replace(spec, model=None, origin=o))
    original = _loops(spec.m)
    for m in _model_candidates(spec.m):
        try:
            validate(m)
        except ModelError:
            continue
        if not _loops(m) <= original or not _scans(m):
            continue  # a new loop could make a run unbounded
        out.append(lg.Spec(spec.shape, m, refuse=lg.expected_refusal(m)))
    return out


def _scans(m: Model) -> bool:
    """Every retry loop still reads something before it retries: an empty loop is not a
    scan, and its real form would spin without touching memory."""
    return all(any(not b.is_local for b in lg.loop_body(o, s))
               for _, o, s in lg.iter_steps(m) if s.retry and isinstance(s.next, str))


def _loops(m: Model) -> set[tuple[str, int, str]]:
    return {(t.name, k, label) for t in m.threads for k, label in lg.looping_steps(t)}


def _origin_candidates(s: rp.Spec) -> list[rp.Spec]:
    out = []
    threads = list(s.threads)
    for i in range(len(threads)):
        if len(threads) > 1:
            out.append(replace(s, threads=tuple(threads[:i] + threads[i + 1:])))
    for i, ops in enumerate(threads):
        for j in range(len(ops)):
            if len(ops) > 1 and ops[j].kind not in ("lock", "unlock"):
                new = ops[:j] + ops[j + 1:]
                out.append(replace(s, threads=tuple(threads[:i] + [new] + threads[i + 1:])))
        for j, o in enumerate(ops):
            for simpler in (replace(o, a=0), replace(o, b=0), replace(o, order="plain"
                                                                    if o.order else "")):
                if simpler != o:
                    new = ops[:j] + (simpler,) + ops[j + 1:]
                    out.append(replace(s, threads=tuple(threads[:i] + [new] + threads[i + 1:])))
    if s.prop is not None:
        out.append(replace(s, prop=None))
    if any(s.init):
        out.append(replace(s, init=tuple(0 for _ in s.init)))
    return out


def _with_threads(m: Model, threads: list[Thread]) -> Model:
    return Model(m.name, m.shared, m.ghosts, tuple(threads), m.properties, m.description)


def _with_steps(t: Thread, k: int, steps: list[Step], entry: str | None = None) -> Thread:
    o = t.ops[k]
    new = Operation(o.name, o.args, entry or o.entry, tuple(steps), o.locals)
    return Thread(t.name, t.ops[:k] + (new,) + t.ops[k + 1:], t.cpu, t.daemon, t.bound)


def _relabel(s: Step, old: str, new: str) -> Step:
    if isinstance(s.next, Switch):
        nxt: str | Switch = Switch(tuple((c, new if lbl == old else lbl)
                                         for c, lbl in s.next.cases),
                                   new if s.next.default == old else s.next.default)
    else:
        nxt = new if s.next == old else s.next
    return s if nxt == s.next else lg.restep(s, next=nxt)


def _model_candidates(m: Model) -> list[Model]:
    out: list[Model] = []
    threads = list(m.threads)
    for i in range(len(threads)):  # drop a thread
        if len(threads) > 1:
            out.append(_with_threads(m, threads[:i] + threads[i + 1:]))
    for i, t in enumerate(threads):  # drop an operation
        if len(t.ops) > 1:
            for k in range(len(t.ops)):
                new = Thread(t.name, t.ops[:k] + t.ops[k + 1:], t.cpu, t.daemon, t.bound)
                out.append(_with_threads(m, threads[:i] + [new] + threads[i + 1:]))
    for i, t in enumerate(threads):  # drop a step: jumps to it go where it went
        for k, o in enumerate(t.ops):
            if len(o.steps) < 2:
                continue
            for s in o.steps:
                to = s.next.default if isinstance(s.next, Switch) else s.next
                if to == s.label:
                    continue
                rest = [_relabel(x, s.label, to) for x in o.steps if x is not s]
                entry = to if o.entry == s.label else o.entry
                if entry == DONE:
                    continue
                new = _with_steps(t, k, rest, entry)
                out.append(_with_threads(m, threads[:i] + [new] + threads[i + 1:]))
    for j in range(len(m.properties)):  # drop a property
        props = m.properties[:j] + m.properties[j + 1:]
        out.append(m.with_properties(props))
    for i, t in enumerate(threads):  # simplify one step
        for k, o in enumerate(t.ops):
            for n, s in enumerate(o.steps):
                for simpler in _simpler_steps(s):
                    steps = list(o.steps)
                    steps[n] = simpler
                    new = _with_steps(t, k, steps)
                    out.append(_with_threads(m, threads[:i] + [new] + threads[i + 1:]))
    for i, t in enumerate(threads):
        if t.daemon and t.bound:
            new = Thread(t.name, t.ops, t.cpu, t.daemon, 0)
            out.append(_with_threads(m, threads[:i] + [new] + threads[i + 1:]))
    for j, p in enumerate(m.properties):  # simpler constants in properties
        for e in _simpler_exprs(p.expr):
            q = lg.prop(p.name, e, p.kind, p.sticky)
            out.append(m.with_properties(m.properties[:j] + (q,) + m.properties[j + 1:]))
    for name, decl in list(m.shared.items()) + list(m.ghosts.items()):
        if decl.init:
            if name in m.shared:
                out.append(replace(m, shared={**m.shared, name: replace(decl, init=0)}))
            else:
                out.append(replace(m, ghosts={**m.ghosts, name: replace(decl, init=0)}))
    return out


def _simpler_steps(s: Step) -> list[Step]:
    out = []
    if s.guard != TRUE and not s.retry:
        out.append(lg.restep(s, guard=TRUE))
    if isinstance(s.next, Switch):
        out.append(lg.restep(s, next=s.next.default))
        out += [lg.restep(s, next=label) for _, label in s.next.cases]
    for j in range(len(s.update)):
        out.append(lg.restep(s, update=s.update[:j] + s.update[j + 1:]))
    used = {v.name for e in lg._exprs(s) for v in variables(e)}
    assigned = {v.name for v, _ in s.update}
    for name in s.reads:
        if name not in used:
            out.append(lg.restep(s, reads=tuple(x for x in s.reads if x != name)))
    for name in s.writes:
        if name not in assigned:
            out.append(lg.restep(s, writes=tuple(x for x in s.writes if x != name)))
    if s.choose is not None and len(s.choose.values) > 1:
        out.append(lg.restep(s, choose=Choice(s.choose.local, s.choose.values[:-1])))
    if s.atomic:
        out.append(lg.restep(s, atomic=False))
    if s.order != "plain":
        out.append(lg.restep(s, order="plain"))
    for j, (v, e) in enumerate(s.update):
        for e2 in _simpler_exprs(e):
            upd = list(s.update)
            upd[j] = (v, e2)
            out.append(lg.restep(s, update=tuple(upd)))
    if not isinstance(s.guard, Const):  # true is simplest; false is another program
        for e2 in _simpler_exprs(s.guard):
            out.append(lg.restep(s, guard=e2))
    return out


def _simpler_exprs(e: Expr) -> list[Expr]:
    """``e`` with one constant made smaller, or one operand taken for the whole."""
    out: list[Expr] = []
    consts = [n for n in walk(e) if isinstance(n, Const) and n.value > 0]
    for c in dict.fromkeys(consts):
        for smaller in dict.fromkeys((0, c.value - 1)):
            out.append(_replace_node(e, c, Const(smaller)))
    return out


def _replace_node(e: Expr, old: Expr, new: Expr) -> Expr:
    if e == old:
        return new
    if isinstance(e, BinOp):
        return BinOp(e.op, _replace_node(e.left, old, new), _replace_node(e.right, old, new))
    if isinstance(e, UnOp):
        return UnOp(e.op, _replace_node(e.arg, old, new))
    if isinstance(e, Ite):
        return Ite(_replace_node(e.cond, old, new), _replace_node(e.then, old, new),
                      _replace_node(e.other, old, new))
    return e


def mismatch_report(spec: lg.Spec, c: LangCheck) -> str:
    return f"{spec}\n{spec!r}\n" + "\n".join(f"{k}: {m}" for k, m in c.mismatches)

