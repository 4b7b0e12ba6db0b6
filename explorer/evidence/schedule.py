"""Schedule files: a violation's run saved to disk, to be replayed later.

A schedule file (JSON, schema 1) holds everything `explorer replay` needs to
rebuild the model exactly as checked and re-execute the violating run:

  schema, tool, model, scenario, parameters ({key: value as --set takes it}),
  mutant (or null), memory_model, srcu, strategy, property (the failed
  property's name), minimal (bool, optional), events (how many steps the
  file has: one cut short is refused; optional, older files lack it), steps
  (list of {thread, choice (or null), step, line}: one per event, naming the
  step label the thread ran and its kernel line, so a changed model is caught
  at the step where it no longer fits).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .. import __version__
from ..lang.family import BadInput
from ..search.outcome import Outcome
from ..search.result import VIOLATED

SCHEMA = 1
NOT_REPRODUCED = "schedule ran to its end without a violation"
REPLAY_STRATEGY = "replay"


@dataclass(frozen=True)
class ScheduleStep:
    thread: str
    choice: int | None
    step: str
    line: str


@dataclass(frozen=True)
class ScheduleFile:
    model: str
    scenario: str
    parameters: Mapping[str, str]
    mutant: str | None
    memory_model: str
    srcu: str
    strategy: str
    property: str
    steps: tuple[ScheduleStep, ...]
    minimal: bool = False
    tool: str = f"explorer {__version__}"
    schema: int = SCHEMA
    source: str = field(default="", compare=False)  # the file it was loaded from
    # A user's model: its file (absolute here; relative to the schedule file's folder
    # on disk, so a repository can move) or its module name. "" for a built-in model.
    model_from: str = ""

    def to_json(self, folder: Path | None = None) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "schema": self.schema,
            "tool": self.tool,
            "model": self.model,
            "scenario": self.scenario,
            "parameters": dict(self.parameters),
            "mutant": self.mutant,
            "memory_model": self.memory_model,
            "srcu": self.srcu,
            "strategy": self.strategy,
            "property": self.property,
            "minimal": self.minimal,
            "events": len(self.steps),
            "steps": [
                {"thread": st.thread, "choice": st.choice, "step": st.step, "line": st.line}
                for st in self.steps
            ],
        }
        if self.model_from:
            where = self.model_from
            if os.path.isabs(where) and folder is not None:
                where = os.path.relpath(where, folder.resolve())
            doc["model_from"] = where
        return doc


def _param_text(value: Any) -> str:
    """A resolved parameter value as `--set` accepts it back."""
    if isinstance(value, tuple | list):
        return ",".join(str(x) for x in value)
    return str(value)


def from_outcome(outcome: Outcome) -> ScheduleFile:
    """The schedule file of a violation (ValueError if the outcome is not one)."""
    r, s, prog = outcome.result, outcome.setup, outcome.program
    if r.verdict != VIOLATED or r.failure is None or r.schedule is None or prog is None:
        raise ValueError("only a violation with its schedule has a schedule file")
    steps = []
    state = prog.initial_state()
    for t, v in r.schedule:
        cs = prog.current(state, t)
        if cs is None:
            raise ValueError(f"schedule runs thread {prog.threads[t].name} after its end")
        steps.append(ScheduleStep(prog.threads[t].name, v, cs.step.label, cs.step.line))
        prog.execute(state, t, v)
    return ScheduleFile(
        model=s.model,
        scenario=s.scenario,
        parameters={k: _param_text(v) for k, v in s.values.items()},
        mutant=s.mutant,
        memory_model=s.memory_model,
        srcu=s.srcu,
        strategy=r.strategy,
        property=r.failure.name,
        steps=tuple(steps),
        minimal=r.minimal,
        model_from=s.source,
    )


def dumps(sf: ScheduleFile, folder: Path | None = None) -> str:
    return json.dumps(sf.to_json(folder), indent=2) + "\n"


def save(sf: ScheduleFile, path: str | Path) -> Path:
    """Writes a new file; never overwrites (BadInput if `path` exists)."""
    p = Path(path)
    try:
        if p.parent != Path():
            p.parent.mkdir(parents=True, exist_ok=True)
        with p.open("x", encoding="utf-8") as f:
            f.write(dumps(sf, p.parent))
    except FileExistsError:
        raise BadInput(f"schedule file {p} already exists (will not overwrite it)") from None
    except OSError as err:
        raise BadInput(f"cannot write schedule file {p}: {err.strerror or err}") from None
    return p


def save_new(sf: ScheduleFile, directory: str | Path = "counterexamples") -> Path:
    """Writes DIR/<model>-<scenario>-<mutant or none>[-<srcu>][-<memory model>].json
    (SRCU and memory model when not the defaults), adding -2, -3, ... when taken."""
    stem = f"{sf.model}-{sf.scenario}-{sf.mutant or 'none'}"
    if sf.srcu != "abstract":
        stem += f"-{sf.srcu}"
    if sf.memory_model != "sc":
        stem += f"-{sf.memory_model}"
    d = Path(directory)
    n = 1
    while True:
        p = d / (f"{stem}.json" if n == 1 else f"{stem}-{n}.json")
        if not p.exists():
            try:
                return save(sf, p)
            except BadInput:
                if not p.exists():  # not a name clash: a real error
                    raise
        n += 1


# -- loading -------------------------------------------------------------------


def _get(doc: dict[str, Any], key: str, types: type | tuple[type, ...], what: str) -> Any:
    if key not in doc:
        raise BadInput(f"missing key {key!r}")
    value = doc[key]
    allowed = types if isinstance(types, tuple) else (types,)
    if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
        raise BadInput(f"key {key!r} must be {what}, not {json.dumps(value)[:40]}")
    return value


def _parse(doc: Any) -> ScheduleFile:
    if not isinstance(doc, dict):
        raise BadInput("not a JSON object")
    schema = _get(doc, "schema", int, "an integer")
    if schema != SCHEMA:
        raise BadInput(f"schema {schema} is not supported (this explorer reads schema {SCHEMA})")
    params = _get(doc, "parameters", dict, "an object")
    for k, v in params.items():
        if not isinstance(v, str):
            raise BadInput(f"parameter {k!r} must be a string, not {json.dumps(v)[:40]}")
    raw_steps = _get(doc, "steps", list, "a list")
    steps = []
    for i, st in enumerate(raw_steps, 1):
        if not isinstance(st, dict):
            raise BadInput(f"step {i} is not an object")
        try:
            thread = _get(st, "thread", str, "a string")
            choice = _get(st, "choice", (int, type(None)), "an integer or null")
            label = _get(st, "step", str, "a string")
            line = _get(st, "line", str, "a string")
        except BadInput as err:
            raise BadInput(f"step {i}: {err}") from None
        steps.append(ScheduleStep(thread, choice, label, line))
    events = doc.get("events")
    if events is not None and (not isinstance(events, int) or isinstance(events, bool)):
        raise BadInput(f"key 'events' must be an integer, not {json.dumps(events)[:40]}")
    if events is not None and events != len(steps):
        what = "cut short" if events > len(steps) else "steps added"
        raise BadInput(f"{what}: it records {events} events but lists {len(steps)} steps")
    return ScheduleFile(
        model=_get(doc, "model", str, "a string"),
        scenario=_get(doc, "scenario", str, "a string"),
        parameters=dict(params),
        mutant=_get(doc, "mutant", (str, type(None)), "a string or null"),
        memory_model=_get(doc, "memory_model", str, "a string"),
        srcu=_get(doc, "srcu", str, "a string"),
        strategy=_get(doc, "strategy", str, "a string"),
        property=_get(doc, "property", str, "a string"),
        steps=tuple(steps),
        minimal=bool(doc.get("minimal", False)),
        tool=_get(doc, "tool", str, "a string"),
        schema=schema,
        model_from=_get(doc, "model_from", str, "a string") if "model_from" in doc else "",
    )


def load(path: str | Path) -> ScheduleFile:
    """Reads and checks a schedule file (api.load_schedule also checks that the model
    has its threads).

    Every problem is a BadInput of one line naming the file.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput(f"{p}: no such schedule file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise BadInput(f"{p}: cannot read: {getattr(err, 'strerror', None) or err}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise BadInput(f"{p}: not valid JSON ({err})") from None
    try:
        sf = _parse(doc)
    except BadInput as err:
        raise BadInput(f"{p}: {err}") from None
    where = sf.model_from
    if where and (where.endswith(".py") or "/" in where) and not os.path.isabs(where):
        where = os.path.normpath(os.path.join(p.resolve().parent, where))
    return replace(sf, source=str(p), model_from=where)


__all__ = [
    "NOT_REPRODUCED", "SCHEMA", "ScheduleFile", "ScheduleStep", "from_outcome", "load",
    "save", "save_new",
]


def refuse_existing(path: str | None) -> None:
    """Checked before a search, so that a long run never ends unable to save."""
    if path and os.path.lexists(path):
        raise BadInput(f"--schedule-out {path}: file exists (will not overwrite it)")


def save_violation(outcome: Outcome, path: str | None) -> str:
    """Writes the violating run's schedule to `path`, or under a new name; returns it."""
    sf = from_outcome(outcome)
    return str(save(sf, path) if path else save_new(sf))
