"""Suites: TOML files that list checks and the verdict each must get (data only).

A suite (specs/ci.toml is the project's own) is read with the standard
library's tomllib and nothing in it is executed:

    [suite]
    name = "my gate"                 # optional; default: the file's name

    [defaults]                       # optional; any check key but model and name
    strategy = "optimal"
    timeout = 300                    # seconds, per check
    max_executions = 1_000_000

    [[check]]
    model = "guest_memfd"            # a built-in name, a file (relative to the suite), a module
    scenario = ["small", "default"]  # a list runs one check per value
    set = { get_folio = "3" }        # --set KEY=VALUE
    mutant = "no-synchronize"        # optional
    memory_model = ["sc", "tso", "pso"]
    srcu = "abstract"
    expect = "violated"              # holds | violated
    property = "no-change-after-freeze"   # optional: the property that must fail
    allow_incomplete = false         # true: running out of budget does not fail the gate

`scenario`, `mutant`, `memory_model`, `srcu` and `strategy` may be lists: a
check stands for every combination. Every problem is a BadInput naming the
file and the check.
"""

from __future__ import annotations

import itertools
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..lang.family import BadInput

EXPECTS = ("holds", "violated")
# Keys a check may set, and the keys that may hold a list (one check per value).
_MATRIX = ("scenario", "mutant", "memory_model", "srcu", "strategy")
_KEYS = {"name", "model", "set", "expect", "property", "timeout", "max_executions",
         "max_steps", "allow_incomplete", *_MATRIX}
DEFAULT_TIMEOUT = 600.0  # seconds per check when neither the check nor the suite says


@dataclass(frozen=True)
class CheckSpec:
    """One check of a suite, every list expanded."""

    suite: str
    index: int  # 1-based, in the suite's order, after expansion
    model: str  # as explorer check takes it (a file made absolute)
    model_label: str  # as the suite wrote it
    scenario: str | None
    settings: Mapping[str, str]
    mutant: str | None
    memory_model: str
    srcu: str
    strategy: str
    expect: str
    expect_property: str | None  # the property that must fail (expect = "violated")
    timeout: float
    max_executions: int | None
    max_steps: int | None
    allow_incomplete: bool
    name: str = ""

    @property
    def id(self) -> str:
        """Stable across runs: what the check is, never when or how fast it ran."""
        if self.name:
            return self.name
        parts = [self.model_label, self.scenario or "default", self.mutant or "none",
                 self.srcu, self.memory_model]
        if self.strategy != "optimal":
            parts.append(self.strategy)
        tail = "".join(f" {k}={v}" for k, v in sorted(self.settings.items()))
        return "/".join(parts) + tail


@dataclass(frozen=True)
class Suite:
    name: str
    path: str
    checks: tuple[CheckSpec, ...] = field(default=())


def load(path: str | Path) -> Suite:
    p = Path(path)
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(f"{p}: no such suite file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise BadInput(f"{p}: cannot read: {getattr(err, 'strerror', None) or err}") from None
    except tomllib.TOMLDecodeError as err:
        raise BadInput(f"{p}: not valid TOML ({err})") from None
    unknown = set(doc) - {"suite", "defaults", "check"}
    if unknown:
        raise BadInput(f"{p}: unknown table {sorted(unknown)[0]!r} (known: suite, "
                       "defaults, check)")
    head = _table(doc.get("suite", {}), p, "[suite]")
    extra = set(head) - {"name", "description"}
    if extra:
        raise BadInput(f"{p}: [suite]: unknown key {sorted(extra)[0]!r}")
    name = _text(head.get("name", p.stem), p, f"{p}: [suite] name")
    defaults = _table(doc.get("defaults", {}), p, "[defaults]")
    bad = set(defaults) - (_KEYS - {"name", "model"})
    if bad:
        raise BadInput(f"{p}: [defaults]: unknown key {sorted(bad)[0]!r}")
    raw = doc.get("check", [])
    if not isinstance(raw, list) or not raw:
        raise BadInput(f"{p}: no [[check]] entries")
    checks: list[CheckSpec] = []
    for i, entry in enumerate(raw, 1):
        where = f"{p}: check {i}"
        entry = _table(entry, p, f"check {i}")
        merged = {**defaults, **entry}
        checks += _expand(merged, name, p, where, len(checks))
    ids = [c.id for c in checks]
    dup = next((x for x in ids if ids.count(x) > 1), None)
    if dup is not None:
        raise BadInput(f"{p}: two checks are both {dup!r} (give one a name)")
    return Suite(name, str(p), tuple(checks))


def _expand(entry: dict[str, Any], suite: str, path: Path, where: str, done: int
            ) -> list[CheckSpec]:
    unknown = set(entry) - _KEYS
    if unknown:
        raise BadInput(f"{where}: unknown key {sorted(unknown)[0]!r} (known: "
                       f"{', '.join(sorted(_KEYS))})")
    if "model" not in entry:
        raise BadInput(f"{where}: no model")
    model_label = _text(entry["model"], path, f"{where}: model")
    expect = _text(entry.get("expect", ""), path, f"{where}: expect")
    if expect not in EXPECTS:
        raise BadInput(f"{where}: expect must be holds or violated, not {expect!r}")
    settings = _table(entry.get("set", {}), path, f"{where}: set")
    texts = {}
    for k, v in settings.items():
        if isinstance(v, bool) or not isinstance(v, str | int | list):
            raise BadInput(f"{where}: set.{k} must be a string or an integer")
        texts[k] = ",".join(str(x) for x in v) if isinstance(v, list) else str(v)
    prop = entry.get("property")
    if prop is not None:
        prop = _text(prop, path, f"{where}: property")
        if expect != "violated":
            raise BadInput(f"{where}: property names what must fail: only with "
                           "expect = \"violated\"")
    timeout = _number(entry.get("timeout", DEFAULT_TIMEOUT), f"{where}: timeout", float)
    max_exec = entry.get("max_executions")
    if max_exec is not None:
        max_exec = int(_number(max_exec, f"{where}: max_executions", int))
    max_steps = entry.get("max_steps")
    if max_steps is not None:
        max_steps = int(_number(max_steps, f"{where}: max_steps", int))
    allow = entry.get("allow_incomplete", False)
    if not isinstance(allow, bool):
        raise BadInput(f"{where}: allow_incomplete must be true or false")
    name = _text(entry.get("name", ""), path, f"{where}: name")
    axes = [_values(entry, key, where) for key in _MATRIX]
    combos = list(itertools.product(*axes))
    if name and len(combos) > 1:
        raise BadInput(f"{where}: a named check cannot stand for {len(combos)} checks "
                       "(drop the name, or the lists)")
    out: list[CheckSpec] = []
    for scenario, mutant, mm, srcu, strategy in combos:
        out.append(CheckSpec(
            suite, done + len(out) + 1, _model_ref(model_label, path), model_label,
            scenario, texts, mutant, mm or "sc", srcu or "abstract", strategy or "optimal",
            expect, prop, float(timeout), max_exec, max_steps, allow, name,
        ))
    return out


def _model_ref(label: str, suite: Path) -> str:
    """A file is relative to the suite's folder; names and modules stay as they are."""
    if label.endswith(".py") or "/" in label:
        return os.path.normpath(os.path.join(suite.resolve().parent, label))
    return label


def _values(entry: Mapping[str, Any], key: str, where: str) -> list[str | None]:
    value = entry.get(key)
    if value is None:
        return [None]
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(x, str) and x for x in items):
        raise BadInput(f"{where}: {key} must be a name or a list of names")
    return list(items)


def _table(value: Any, path: Path, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadInput(f"{path}: {what} must be a table")
    return value


def _text(value: Any, path: Path, what: str) -> str:
    if not isinstance(value, str):
        raise BadInput(f"{what} must be a string")
    return value


def _number(value: Any, what: str, kind: type) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if kind is int:
        ok = ok and isinstance(value, int)
    if not ok or value <= 0:
        raise BadInput(f"{what} must be a positive {'integer' if kind is int else 'number'}")
    return float(value)
