"""Rendering outcomes: the text a developer reads and the JSON a CI job parses.

JSON keys (schema 1, stable; new keys may be added, none renamed):
  schema, tool, verdict (holds|violated|incomplete|error), complete (bool),
  property ({name, description, detail} or null), properties_checked,
  reason (why incomplete, or the error), model, scenario, parameters, mutant,
  strategy, memory_model, srcu, executions, schedules, states, events,
  sleep_blocked, deadlocked, redundant, cut_off (runs ended at a retry step
  another run covers), seconds, events_per_second,
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
import textwrap
from typing import Any

from .. import __version__
from ..compile.lowering import stale_reads
from ..compile.program import Program, StepRecord, render
from ..lang.expr import Ghost, Shared, variables
from ..search.minimize import context_switches
from ..search.outcome import Outcome
from ..search.result import HOLDS, INCOMPLETE, VIOLATED

SCHEMA = 1
WIDTH = 100


def _num(n: int) -> str:
    return f"{n:,}"


def headline(o: Outcome) -> str:
    r, st = o.result, o.result.stats
    rate = f"{_num(int(st.events_per_second))} events/s, {_num(int(st.states_per_second))} states/s"
    if r.strategy in ("optimal", "dpor"):
        work = (
            f"{_num(st.executions)} executions ({_num(st.sleep_blocked)} blocked by sleep sets, "
            f"{_num(st.redundant)} redundant), {_num(st.events)} events in {st.seconds:.2f} s "
            f"({_num(int(st.events_per_second))} events/s)"
        )
    else:
        work = (
            f"{_num(st.executions)} executions, {_num(st.states)} states, "
            f"{_num(st.events)} events in {st.seconds:.2f} s ({rate})"
        )
    if st.cut_off:
        work += f"; {_num(st.cut_off)} of the runs cut off at a failed retry another run covers"
    work = o.work or work
    if r.verdict == HOLDS and r.strategy == "replay":
        return f"NOT REPRODUCED: {r.reason} ({_num(st.events)} events)"
    if r.verdict == HOLDS:
        covered = f"; covering {_num(st.schedules)} schedules" if st.schedules else ""
        return f"HOLDS exhaustively: {work}{covered}"
    if r.verdict == VIOLATED:
        assert r.failure is not None
        return f"VIOLATED {r.failure.name}: after {work}"
    if r.verdict == INCOMPLETE:
        return f"INCOMPLETE (nothing proved): {r.reason}; explored {work}"
    return f"ERROR: {r.reason}"


def text(o: Outcome) -> str:
    s, r = o.setup, o.result
    out = [
        _wrap(f"model {s.model}, scenario {s.scenario}: {s.scenario_description}", ""),
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
                names += (f" (and {daemons} store-buffer flushers: a flush shows in the "
                          "column of the thread whose CPU stored)")
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
            against = f"; read it against {s.source}" if s.source else ""
            out += ["", _wrap(f"Counterexample: {len(o.trace)} steps, {switches} context "
                              f"switches ({which}){against}", ""),
                    _wrap(f"threads: {names}", "")]
            out += swimlane(o.trace, o.program)
            out += ["", "Step by step, with the kernel source:"]
            out += trace_lines(o.trace)
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
    return textwrap.fill(line, WIDTH, subsequent_indent=indent + "  ")


def _kv(pairs: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f"{k}={v}" for k, v in pairs)


def _short_line(line: str) -> str:
    """`virt/kvm/guest_memfd.c:118` -> `guest_memfd.c:118` (the column is narrow)."""
    head, _, rest = line.partition(" ")
    return head.rsplit("/", 1)[-1] + (f" {rest}" if rest else "")


def columns(program: Program) -> tuple[list[str], list[int]]:
    """Column names, and each thread's column: a store-buffer flusher shares the
    column of the (first) thread running on its CPU."""
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
    return names, col


def swimlane(trace: list[StepRecord], program: Program) -> list[str]:
    """One column per thread, steps top to bottom, within WIDTH columns."""
    threads, where = columns(program)
    gutter = 5
    col = max(16, (WIDTH - gutter) // max(1, len(threads)))
    header = " " * gutter + "".join(f"{name[:col - 1]:<{col}}" for name in threads)
    out = [header.rstrip(), " " * gutter + "-" * (col * len(threads) - 1)]
    for i, rec in enumerate(trace, 1):
        cell = [("+" if rec.fused else "") + rec.label, _short_line(rec.line)]
        if rec.chosen:
            cell.append(f"chose {rec.chosen}")
        cell += [f"r {k}={v}" for k, v in rec.reads]
        cell += [f"w {k}={v}" for k, v in rec.writes]
        lines: list[str] = []
        w = col - 1
        for text_ in cell:
            parts = [text_]
            if len(text_) > w and "=" in text_:  # name on one line, value on the next
                name, _, value = text_.partition("=")
                parts = [name, " =" + value]
            for part in parts:  # hard split: names and values are single long words
                lines.append(part[:w])
                lines += [" " + part[k:k + w - 1] for k in range(w, len(part), w - 1)]
        pad = " " * (col * where[rec.thread])
        for k, text_ in enumerate(lines):
            num = f"{i:>3}. " if k == 0 else " " * gutter
            out.append((num + pad + text_).rstrip())
    return out


def trace_lines(trace: list[StepRecord]) -> list[str]:
    out = []
    for i, rec in enumerate(trace, 1):
        mark = "+" if rec.fused else " "
        head = f"{i:>3}.{mark}{rec.thread_name:<12} {rec.op}({rec.op_args})"
        out.append(_wrap(f"{head}  {rec.label}", "      "))
        out.append(_wrap(f"        {rec.line}: {rec.code}", "        "))
        facts = []
        if rec.reads:
            facts.append("read " + _kv(rec.reads))
        if rec.writes:
            facts.append("wrote " + _kv(rec.writes))
        if rec.locals:
            facts.append("local " + _kv(rec.locals))
        if facts:
            out.append(_wrap("        " + "; ".join(facts), "        "))
    out.append("  (+ marks a local step run in the same atomic event as the step before)")
    return out


def why_lines(o: Outcome) -> list[str]:
    """The values the failed property depends on, in the state where it failed."""
    r, prog, state = o.result, o.program, o.final_state
    assert r.failure is not None and prog is not None and state is not None
    if r.failure.detail:
        lines = [_wrap(f"Why: {r.failure.detail}", "")]
    elif o.trace:
        # The last event's own step, not a local step fused after it.
        i = max(k for k, rec in enumerate(o.trace, 1) if not rec.fused)
        last = o.trace[i - 1]
        lines = [f"Why: step {i} ({last.thread_name} at {last.label}) made it false"]
    else:
        lines = ["Why: it is false in the initial state"]
    prop = next((p for p in prog.model.properties if p.name == r.failure.name), None)
    if prop is not None:
        vals = []
        for v in sorted(variables(prop.expr), key=lambda v: v.name):
            if isinstance(v, Shared | Ghost):
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
