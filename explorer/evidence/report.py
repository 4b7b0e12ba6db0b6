"""Rendering outcomes: the text a developer reads and the JSON a CI job parses.

JSON keys (schema 1, stable; new keys may be added, none renamed):
  schema, tool, verdict (holds|violated|incomplete|error), complete (bool),
  property ({name, description, detail} or null), properties_checked,
  reason (why incomplete, or the error), model, model_from (a user's model: its
  file or module; null for a built-in one), scenario, parameters, mutant,
  strategy, memory_model, srcu, executions, schedules, states, events,
  sleep_blocked, deadlocked, redundant, cut_off (runs ended at a retry step
  another run covers), dropped (graph strategy: graphs grown that are not
  executions), seconds, events_per_second,
  states_per_second,
  trace (list of steps, or null), schedule (list of [thread, choice], or null),
  schedule_file (the schedule file written or replayed, or null),
  races (with --explain: [{first, second, locations, sentence}], else null),
  shrunk (for a final-property or deadlock violation that still happens with
  threads or operations removed: {dropped, steps, schedule, threads}, else null),
  cross_check (with --cross-check: {strategy, verdict, executions, seconds, agree},
  agree null when either run is incomplete; else null).
A trace step: index, event, thread, operation, args, step, line, code,
  reads {location: value}, writes {location: value}, locals {name: value},
  chosen (or null), fused (true when run in the same event as the step before).
"""

from __future__ import annotations

import json
import os
import re
import textwrap
from collections.abc import Callable
from typing import Any

from .. import __version__
from ..compile.lowering import bookkeeping, stale_reads
from ..compile.program import Program, StepRecord, render
from ..search.minimize import context_switches
from ..search.outcome import Outcome
from ..search.result import HOLDS, INCOMPLETE, VIOLATED
from .moments import Moment, Moments, failing_vars, moments

SCHEMA = 1
WIDTH = 100


def _num(n: int) -> str:
    return f"{n:,}"


def _count(n: int, noun: str) -> str:
    """`1 step`, `2 steps`, `3 context switches`."""
    return f"{_num(n)} {noun}" + ("" if n == 1 else "es" if noun.endswith("ch") else "s")


def headline(o: Outcome) -> str:
    r, st = o.result, o.result.stats
    rate = f"{_num(int(st.events_per_second))} events/s, {_num(int(st.states_per_second))} states/s"
    if r.strategy in ("optimal", "dpor"):
        work = (
            f"{_num(st.executions)} executions ({_num(st.sleep_blocked)} blocked by sleep sets, "
            f"{_num(st.redundant)} redundant), {_num(st.events)} events in {st.seconds:.2f} s "
            f"({_num(int(st.events_per_second))} events/s)"
        )
    elif r.strategy == "graph":
        work = (
            f"{_num(st.executions)} executions ({_num(st.dropped)} graphs dropped as not "
            f"executions), {_num(st.events)} events in {st.seconds:.2f} s"
        )
    else:
        work = (
            f"{_num(st.executions)} executions, {_num(st.states)} states, "
            f"{_num(st.events)} events in {st.seconds:.2f} s ({rate})"
        )
    if st.cut_off:
        work += f"; {_num(st.cut_off)} of the runs cut off at a failed retry another run covers"
    if st.symmetric:
        work += f"; up to swapping {st.symmetric} symmetric threads"
    work = o.work or work
    if r.verdict == HOLDS and r.strategy == "replay":
        return f"NOT REPRODUCED: {r.reason} ({_num(st.events)} events)"
    if r.verdict == HOLDS:
        # The graph strategy counts one schedule per graph: per orbit, with symmetry.
        orbits = r.strategy == "graph" and st.symmetric
        covered = f"; covering {_num(st.schedules)} schedules" if st.schedules and not orbits \
            else ""
        return f"HOLDS exhaustively: {work}{covered}"
    if r.verdict == VIOLATED:
        assert r.failure is not None
        return f"VIOLATED {r.failure.name}: after {work}"
    if r.verdict == INCOMPLETE:
        return f"INCOMPLETE (nothing proved): {r.reason}; explored {work}"
    return f"ERROR: {r.reason}"


def _from(source: str) -> str:
    """Where a user's model came from, as short as it can be said."""
    if not source:
        return ""
    if os.path.isabs(source):
        rel = os.path.relpath(source)
        source = source if rel.startswith("..") else rel
    return f" ({source})"


def text(o: Outcome) -> str:
    s, r = o.setup, o.result
    out = [
        _wrap(f"model {s.model}{_from(s.source)}, scenario {s.scenario}: "
              f"{s.scenario_description}", ""),
        f"mutant {s.mutant or 'none'}, strategy {r.strategy}, memory model {s.memory_model}"
        + (f", SRCU {s.srcu}" if s.uses_srcu else ""),
        _wrap("properties: " + ", ".join(r.properties), ""),
        "",
        _wrap(headline(o), ""),
    ]
    if r.verdict == VIOLATED and r.failure is not None:
        out.append(_wrap(f"  property: {r.failure.description}", "  "))
        if o.trace is not None and o.program is not None:
            threads = o.program.threads
            names = ", ".join(f"{i} {t.name}" for i, t in enumerate(threads, 1) if not t.daemon)
            daemons = sum(t.daemon for t in threads)
            if daemons:
                names += (f" (and {_count(daemons, 'store-buffer flusher')}: a flush shows in "
                          "the column of the thread whose CPU stored)")
            ran = {t for t, _ in r.schedule or []}
            idle = [t.name for i, t in enumerate(threads) if i not in ran and not t.daemon]
            if idle:
                names += f"; not needed for this violation (never run): {', '.join(idle)}"
            if o.final_state is not None:
                later = []
                for t in sorted(ran):
                    cs = o.program.current(o.final_state, t)
                    rest = o.program.model.threads[t].ops[cs.op_index + 1:] if cs else ()
                    if rest:
                        later.append(f"{o.program.threads[t].name}'s "
                                     + ", ".join(op.name for op in rest))
                if later:
                    names += f"; not reached: {'; '.join(later)}"
            switches = context_switches(r.schedule or [])
            which = "the fewest of any violating interleaving" if r.minimal else "as found"
            against = f"; read it against {s.read_against}" if s.read_against else ""
            out += ["", _wrap(f"Counterexample: {_count(len(o.trace), 'step')}, "
                              f"{_count(switches, 'context switch')} ({which}){against}", ""),
                    _wrap(f"threads: {names}", "")]
            marks = marks_of(o)
            out += swimlane(o.trace, o.program, marks)
            out += ["", "Step by step, with the kernel source:"]
            out += trace_lines(o.trace, o.program, marks)
            out += [""] + why_lines(o)
            if o.shrunk is not None:
                sh = o.shrunk
                out += ["", _wrap(f"Shrunk: the property still fails with "
                                  f"{', '.join(sh.dropped)} removed from the model "
                                  f"({len(sh.trace)} steps):", "")]
                out += swimlane(sh.trace, sh.program)
            if o.races is not None:
                out += ["", "Races that decided it (flip one and the run no longer violates):"]
                out += [_wrap(f"  - steps {x.first} and {x.second}: {x.sentence}", "    ")
                        for x in o.races] or ["  (none alone: every single flip still violates)"]
    if o.cross is not None:
        out += ["", _wrap(cross_check_line(o), "")]
    return "\n".join(out)


def cross_check_line(o: Outcome) -> str:
    """What the rerun with another strategy (--cross-check) concluded."""
    c, r = o.cross, o.result
    assert c is not None
    work = f"{_num(c.executions)} executions in {c.seconds:.2f} s"
    if c.agree:
        return f"cross-check: strategy {c.strategy} agrees ({c.verdict}; {work})"
    if c.verdict == INCOMPLETE:
        stands = {VIOLATED: "the violation stands (it was replayed)",
                  HOLDS: "holds is not confirmed (exit 3)"}.get(r.verdict, "nothing is proved")
        return (f"cross-check: strategy {c.strategy} is incomplete ({c.reason}; {work}): "
                f"{stands}")
    if r.verdict == INCOMPLETE:
        return (f"cross-check: strategy {c.strategy} says {c.verdict} ({work}); nothing to "
                f"compare with the incomplete {r.strategy} run")
    return f"cross-check: strategy {c.strategy} says {c.verdict} ({work}): {r.reason}"


def _wrap(line: str, indent: str) -> str:
    # Names are never split (nor at their hyphens): a too long one overflows instead.
    return textwrap.fill(line, WIDTH, subsequent_indent=indent + "  ",
                         break_long_words=False, break_on_hyphens=False)


def _kv(pairs: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f"{k}={v}" for k, v in pairs)


def _short_line(line: str) -> str:
    """`virt/kvm/guest_memfd.c:118` -> `guest_memfd.c:118` (the column is narrow)."""
    head, _, rest = line.partition(" ")
    return head.rsplit("/", 1)[-1] + (f" {rest}" if rest else "")


def columns(program: Program, trace: list[StepRecord] | None = None
            ) -> tuple[list[str], list[int]]:
    """Column names, and each thread's column: a store-buffer flusher shares the
    column of the (first) thread running on its CPU. With `trace`, only the
    columns with a step in it (the others' threads get -1): a thread that never
    ran is named in the header line instead."""
    model_threads = program.model.threads
    names: list[str] = []
    col: list[int] = [-1] * len(model_threads)
    home: dict[str, int] = {}
    for i, t in enumerate(model_threads):
        if not t.daemon:
            col[i] = len(names)
            names.append(t.name)
            home.setdefault(t.home, col[i])
    for i, t in enumerate(model_threads):
        if t.daemon:
            if t.home not in home:
                home[t.home] = len(names)
                names.append(t.name)
            col[i] = home[t.home]
    if trace is None:
        return names, col
    used = sorted({col[rec.thread] for rec in trace})
    renumber = {c: k for k, c in enumerate(used)}
    return [names[c] for c in used], [renumber.get(c, -1) for c in col]


GUTTER = 5  # " 12. "
WINDOW_MARK, BROKE_MARK = ">>", "!!"
# A line may end after these or before "=" / "(", never inside an identifier.
_BREAK_AFTER = frozenset(" .,|/:;)")
_BREAK_BEFORE = frozenset(" =(")


def _breaks(text: str) -> list[int]:
    return [i for i in range(1, len(text))
            if text[i - 1] in _BREAK_AFTER or text[i] in _BREAK_BEFORE]


def _pieces(text: str) -> list[str]:
    """`text` cut at every place a line may end (see _BREAK_AFTER)."""
    cuts = [0, *_breaks(text), len(text)]
    return [text[a:b].strip() for a, b in zip(cuts, cuts[1:], strict=False)]


def _fold(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` (continuations indented by one), ended
    only where _breaks allows; a piece longer than a line stays whole (the
    columns are made wide enough, see swimlane)."""
    out: list[str] = []
    while text:
        room = width - (1 if out else 0)
        if len(text) <= room:
            out.append(text)
            break
        fits = [i for i in _breaks(text) if i <= room and text[:i].strip()]
        cut = fits[-1] if fits else next((i for i in _breaks(text) if text[:i].strip()),
                                         len(text))
        out.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return out[:1] + [" " + line for line in out[1:]]


def _shown(program: Program) -> Callable[[str], bool]:
    """Which locations a trace shows: under TSO/PSO not the store buffers'
    bookkeeping (a store, its flush and the load that reads it are what matter)."""
    if not any(t.daemon for t in program.threads):
        return lambda name: True
    return lambda name: not bookkeeping(name)


def _cells(trace: list[StepRecord], program: Program, marks: Moments) -> list[list[str]]:
    shown = _shown(program)
    cells = []
    for i, rec in enumerate(trace, 1):
        cell = [("+" if rec.fused else "") + rec.label, _short_line(rec.line)]
        if rec.chosen:
            cell.append(f"chose {rec.chosen}")
        cell += [f"r {k}={v}" for k, v in rec.reads if shown(k)]
        cell += [f"w {k}={v}" for k, v in rec.writes if shown(k)]
        if marks.window is not None and marks.window.step == i:
            cell.append(f"{WINDOW_MARK} window opens")
        if marks.broke is not None and marks.broke.step == i:
            cell.append(f"{BROKE_MARK} makes it false")
        cells.append(cell)
    return cells


def _widths(need: list[int], names: list[str]) -> list[int]:
    """Column widths within WIDTH: as equal as can be, each at least as wide as its
    longest unbreakable piece and its name need (more than WIDTH if they must)."""
    room = WIDTH - GUTTER
    least = [max(12, n + 2, len(name) + 2) for n, name in zip(need, names, strict=True)]
    even = room // max(1, len(names))
    while even > 0 and sum(max(w, even) for w in least) > room:
        even -= 1
    return [max(w, even) for w in least]


_NAME = re.compile(r"[A-Za-z0-9_]+")


def _abbreviate(cells: list[list[str]], names: list[str], longest: int
                ) -> tuple[list[list[str]], list[str], list[str]]:
    """Names longer than `longest` as `start~N`, the same everywhere; and the legend."""
    alias: dict[str, str] = {}

    def short(m: re.Match[str]) -> str:
        name = m.group()
        if len(name) <= longest:
            return name
        if name not in alias:
            tag = f"~{len(alias) + 1}"
            alias[name] = name[:max(1, longest - len(tag))] + tag
        return alias[name]

    cells = [[_NAME.sub(short, x) for x in cell] for cell in cells]
    names = [_NAME.sub(short, n) for n in names]
    return cells, names, [f"{a} = {full}" for full, a in alias.items()]


def swimlane(trace: list[StepRecord], program: Program, marks: Moments | None = None
             ) -> list[str]:
    """One column per thread that ran, steps top to bottom, within WIDTH columns.
    A line of a cell ends only at a space or a separator, never inside a name; a
    column is as wide as its longest name needs (a name too long for any column
    is abbreviated, with a legend). `marks`: where the violated property's
    window opened and the step that broke it."""
    marks = marks or Moments()
    names, where = columns(program, trace)
    cells = _cells(trace, program, marks)
    legend: list[str] = []

    def needs() -> list[int]:
        need = [0] * len(names)
        for rec, cell in zip(trace, cells, strict=True):
            c = where[rec.thread]
            need[c] = max([need[c], *(len(p) + 1 for x in cell for p in _pieces(x))])
        return need

    widths = _widths(needs(), names)
    if sum(widths) > WIDTH - GUTTER:  # room for a separator either side and the indent
        longest = (WIDTH - GUTTER) // max(1, len(names)) - 4
        cells, names, legend = _abbreviate(cells, names, longest)
        widths = _widths(needs(), names)
    starts = [GUTTER + sum(widths[:c]) for c in range(len(names))]
    header = "".join(f"{name:<{w}}" for name, w in zip(names, widths, strict=True))
    out = [(" " * GUTTER + header).rstrip(), " " * GUTTER + "-" * (sum(widths) - 1)]
    for i, (rec, cell) in enumerate(zip(trace, cells, strict=True), 1):
        c = where[rec.thread]
        lines = [line for text_ in cell for line in _fold(text_, widths[c] - 1)]
        for k, text_ in enumerate(lines):
            num = f"{i:>3}. " if k == 0 else ""
            out.append((num.ljust(starts[c]) if num else " " * starts[c]) + text_)
    if marks.window is not None:
        w = marks.window
        out.extend(_wrap(f"     {WINDOW_MARK} step {w.step} ({w.record.thread_name}) opens the "
                         f"window of {marks.property}: {_explained(w, program)}", "     "
                         ).splitlines())
    if marks.broke is not None:
        b = marks.broke
        out.extend(_wrap(f"     {BROKE_MARK} step {b.step} ({b.record.thread_name}) makes "
                         f"{marks.property} false", "     ").splitlines())
    if legend:
        out.append("     abbreviated:")
        out += [_wrap(f"       {x}", "       ") for x in legend]
    return out


def trace_lines(trace: list[StepRecord], program: Program | None = None,
                marks: Moments | None = None) -> list[str]:
    """Each step with its kernel source line and the values it read and wrote
    (under TSO/PSO without the store buffers' bookkeeping), and the marks."""
    marks = marks or Moments()
    shown = _shown(program) if program is not None else (lambda name: True)
    out = []
    for i, rec in enumerate(trace, 1):
        mark = "+" if rec.fused else " "
        head = f"{i:>3}.{mark}{rec.thread_name:<12} {rec.op}({rec.op_args})"
        out.append(_wrap(f"{head}  {rec.label}", "      "))
        out.append(_wrap(f"        {rec.line}: {rec.code}", "        "))
        facts = []
        reads = tuple((k, v) for k, v in rec.reads if shown(k))
        writes = tuple((k, v) for k, v in rec.writes if shown(k))
        if reads:
            facts.append("read " + _kv(reads))
        if writes:
            facts.append("wrote " + _kv(writes))
        if rec.locals:
            facts.append("local " + _kv(rec.locals))
        if facts:
            out.append(_wrap("        " + "; ".join(facts), "        "))
        if marks.window is not None and marks.window.step == i:
            out.append(_wrap(f"     {WINDOW_MARK} {marks.property} applies from here: "
                             f"{_explained(marks.window, program)}", "        "))
        if marks.broke is not None and marks.broke.step == i:
            what = f": {_explained(marks.broke, program)}" if marks.broke.values else ""
            out.append(_wrap(f"     {BROKE_MARK} this step makes {marks.property} false{what}",
                             "        "))
    out.append("  (+ marks a local step run in the same atomic event as the step before)")
    return out


def _explained(m: Moment, program: Program | None) -> str:
    """`frozen_window.i0=true (freeze() returned, no unfreeze begun)`: values with their docs."""
    out = []
    for name, value in m.values:
        doc = ""
        if program is not None and name in program.names:
            doc = program.decls[program.names.index(name)].doc
        out.append(f"{name}={value}" + (f" ({doc})" if doc else ""))
    return ", ".join(out)


def marks_of(o: Outcome) -> Moments:
    """Where the violated invariant's window opened and the step that broke it."""
    r = o.result
    if o.trace is None or o.program is None or r.failure is None:
        return Moments()
    return moments(o.program, o.trace, r.failure.name, o.final_state)


def why_lines(o: Outcome) -> list[str]:
    """The step that made the property false, by thread, kernel line and the window
    it fell in; then the values of the property's variables that make it false."""
    r, prog, state = o.result, o.program, o.final_state
    assert r.failure is not None and prog is not None and state is not None
    marks = marks_of(o)
    if r.failure.detail:
        lines = [_wrap(f"Why: {r.failure.detail}", "")]
    elif marks.broke is not None:
        said = f"Why: {marks.broke.cite()} made it false"
        if marks.window is not None:
            said += (f", inside the window that {marks.window.cite()} opened: "
                     f"{_explained(marks.window, prog)}")
        lines = [_wrap(said, "")]
    elif o.trace:
        # The last event's own step, not a local step fused after it.
        i = max(k for k, rec in enumerate(o.trace, 1) if not rec.fused)
        last = o.trace[i - 1]
        lines = [_wrap(f"Why: step {i} ({last.thread_name}: {last.label}, {last.line}) "
                       "made it false", "")]
    else:
        lines = ["Why: it is false in the initial state"]
    prop = next((p for p in prog.model.properties if p.name == r.failure.name), None)
    if prop is not None:
        vals = []
        for v in failing_vars(prop.expr, state, prog):
            slot = prog.slot[v]
            doc = prog.decls[slot].doc
            shown = f"{v.name}={render(state[slot], prog.decls[slot])}"
            vals.append(f"{shown} ({doc})" if doc else shown)
        lines += [_wrap(f"  {v}", "  ") for v in vals]
    if o.trace:
        stale = stale_reads(o.trace)
        if stale:
            lines += ["Stale reads (a store not yet visible to the CPU that read):"]
            lines += [_wrap(f"  - {x}", "    ") for x in stale]
    return lines


def to_json(o: Outcome, schedule_file: str | None = None) -> dict[str, Any]:
    s, r, st = o.setup, o.result, o.result.stats
    trace = None
    if o.trace is not None:
        trace = []
        event = 0
        for i, rec in enumerate(o.trace, 1):
            event += 0 if rec.fused else 1
            trace.append({
                "index": i, "event": event, "thread": rec.thread_name, "operation": rec.op,
                "args": rec.op_args, "step": rec.label, "line": rec.line, "code": rec.code,
                "reads": dict(rec.reads), "writes": dict(rec.writes),
                "locals": dict(rec.locals), "chosen": rec.chosen, "fused": rec.fused,
            })
    return {
        "schema": SCHEMA,
        "tool": f"explorer {__version__}",
        "verdict": r.verdict,
        "complete": r.verdict in (HOLDS, VIOLATED),
        "property": None if r.failure is None else {
            "name": r.failure.name, "description": r.failure.description,
            "detail": r.failure.detail,
        },
        "properties_checked": r.properties,
        "reason": r.reason,
        "model": s.model,
        "model_from": s.source or None,  # a user's model: its file or module
        "scenario": s.scenario,
        "parameters": {k: list(v) if isinstance(v, tuple) else v for k, v in s.values.items()},
        "mutant": s.mutant,
        "strategy": r.strategy,
        "memory_model": s.memory_model,
        "srcu": s.srcu,
        "executions": st.executions,
        "schedules": st.schedules,
        "states": st.states,
        "events": st.events,
        "sleep_blocked": st.sleep_blocked,
        "deadlocked": st.deadlocked,
        "redundant": st.redundant,
        "cut_off": st.cut_off,
        "dropped": st.dropped,
        "symmetric": st.symmetric,
        "seconds": round(st.seconds, 6),
        "events_per_second": round(st.events_per_second, 1),
        "states_per_second": round(st.states_per_second, 1),
        "trace": trace,
        "schedule": None if r.schedule is None else [list(x) for x in r.schedule],
        "schedule_file": schedule_file,
        "shrunk": None if o.shrunk is None else {
            "dropped": o.shrunk.dropped, "steps": len(o.shrunk.trace),
            "schedule": [list(x) for x in o.shrunk.schedule],
            "threads": [t.name for t in o.shrunk.program.threads],
        },
        "races": None if o.races is None else [
            {"first": x.first, "second": x.second, "locations": list(x.locations),
             "sentence": x.sentence} for x in o.races
        ],
        "cross_check": None if o.cross is None else {
            "strategy": o.cross.strategy, "verdict": o.cross.verdict,
            "executions": o.cross.executions, "seconds": round(o.cross.seconds, 6),
            "agree": o.cross.agree,
        },
    }


def dumps(o: Outcome, schedule_file: str | None = None) -> str:
    return json.dumps(to_json(o, schedule_file), indent=2)


__all__ = ["dumps", "headline", "text", "to_json"]
