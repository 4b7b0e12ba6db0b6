"""Model families: parameterised models with named scenarios and mutants.

A family turns parameter values into a concrete Model. Parameters are typed
and documented so that `explorer list --params` can show every one and
`--set key=value` can change any of them, with one clear error for a bad key
or value.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .expr import Expr
from .model import Model, Property


class BadInput(Exception):
    """Something the user wrote is wrong; the CLI prints it on one line and exits 2."""


SYMBOLIC = "?"
"""`--set KEY=?`: the parameter is a symbolic input (only `explorer prove` takes one;
the model declares it with VarDecl.symbolic = KEY and the encoder makes it a free
64-bit bit-vector within the parameter's range)."""


@dataclass(frozen=True)
class Param:
    key: str
    default: str
    doc: str
    kind: str = "int"  # int | choice | list
    low: int = 0
    high: int = 1 << 62
    choices: tuple[str, ...] = ()  # for choice, and the items of a list
    symbolic: bool = False  # may be left symbolic with `?` (see SYMBOLIC)
    numeric: bool = False  # a choice that also takes any integer (a raw value)

    def parse(self, text: str) -> Any:
        text = str(text).strip()
        if text == SYMBOLIC:
            if not self.symbolic:
                raise BadInput(f"{self.key}=?: this parameter cannot be symbolic")
            return SYMBOLIC
        if self.kind == "choice" and self.numeric and text not in self.choices:
            try:
                return int(text, 0)
            except ValueError:
                pass
        if self.kind == "int":
            try:
                value = int(text, 0)
            except ValueError:
                raise BadInput(f"{self.key}={text!r}: not an integer") from None
            if not self.low <= value <= self.high:
                raise BadInput(
                    f"{self.key}={value}: must be between {self.low} and {self.high}"
                )
            return value
        if self.kind == "choice":
            if text not in self.choices:
                raise BadInput(f"{self.key}={text!r}: must be one of {', '.join(self.choices)}")
            return text
        items = [x.strip() for x in text.split(",") if x.strip()] if text not in ("", "-") else []
        for item in items:
            if self.choices and item not in self.choices:
                raise BadInput(
                    f"{self.key}: {item!r} is not one of {', '.join(self.choices)}"
                )
        return tuple(items)

    def describe(self) -> str:
        sym = " | ? (symbolic, prove only)" if self.symbolic else ""
        if self.kind == "int":
            return f"integer {self.low}..{self.high}{sym}"
        if self.kind == "choice":
            return " | ".join(self.choices) + (" | an integer" if self.numeric else "") + sym
        return "comma list of " + (" | ".join(self.choices) if self.choices else "values")


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    settings: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Mutant:
    name: str
    description: str


@dataclass(frozen=True)
class PropertySpec:
    """A property as the specs define it: built from the resolved parameter values."""

    name: str
    description: str
    kind: str
    build: Callable[[Mapping[str, Any]], Expr]
    sticky: bool = False

    def instantiate(self, values: Mapping[str, Any]) -> Property:
        return Property(self.name, self.description, self.build(values), self.kind, self.sticky)


class Family(ABC):
    name: str = ""
    description: str = ""
    scenarios: tuple[Scenario, ...] = ()
    mutants: tuple[Mutant, ...] = ()
    srcu_models: tuple[str, ...] = ("abstract",)
    default_scenario = "default"
    # Whether the model has SRCU at all (a report names the SRCU model only then);
    # None: whether it offers an SRCU model besides the default abstract one.
    uses_srcu: bool | None = None
    # What a counterexample is to be read against, e.g. "the patch" ("": nothing
    # beyond the source lines its steps cite).
    source: str = ""

    def has_srcu(self) -> bool:
        if self.uses_srcu is None:
            return self.srcu_models != Family.srcu_models
        return self.uses_srcu

    @abstractmethod
    def params(self, settings: Mapping[str, str]) -> list[Param]:
        """Every parameter, given the settings so far (counts decide per-thread keys)."""

    @abstractmethod
    def build(self, values: Mapping[str, Any], mutant: str | None, srcu: str) -> Model:
        """The model for resolved parameter values, without properties."""

    def scenario(self, name: str | None) -> Scenario:
        name = name or self.default_scenario
        for sc in self.scenarios:
            if sc.name == name:
                return sc
        known = ", ".join(s.name for s in self.scenarios)
        raise BadInput(f"unknown scenario {name!r} for model {self.name} (known: {known})")

    def mutant(self, name: str | None) -> Mutant | None:
        if name is None:
            return None
        for m in self.mutants:
            if m.name == name:
                return m
        known = ", ".join(m.name for m in self.mutants) or "none"
        raise BadInput(f"unknown mutant {name!r} for model {self.name} (known: {known})")

    def resolve(self, scenario: Scenario, overrides: Mapping[str, str]) -> dict[str, Any]:
        """Parameter values: defaults, then the scenario's settings, then --set."""
        settings = {**scenario.settings, **overrides}
        params = self.params(settings)
        known = {p.key: p for p in params}
        for key in overrides:
            if key not in known:
                raise BadInput(
                    f"unknown parameter {key!r} for model {self.name} "
                    "(see: explorer list --params)"
                )
        return {p.key: p.parse(settings.get(p.key, p.default)) for p in params}


def describe(family: Family, scenario: Scenario, overrides: Mapping[str, str]) -> str:
    """The scenario's description, and each parameter --set gave a value that is not
    the scenario's own, so a header never describes a run that was not checked; a
    symbolic one says so."""
    own = family.resolve(scenario, {})
    values = family.resolve(scenario, overrides)
    changed = []
    for key in overrides:
        value = values[key]
        if key not in own or own[key] != value:
            shown = ",".join(str(x) for x in value) if isinstance(value, tuple) else str(value)
            changed.append(f"{key}={shown}" + (" (symbolic)" if value == SYMBOLIC else ""))
    if not changed:
        return scenario.description
    return f"{scenario.description}; changed by --set: {', '.join(changed)}"


def parse_settings(pairs: list[str]) -> dict[str, str]:
    """`--set key=value` arguments to a dict (later ones win)."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise BadInput(f"--set {pair!r}: expected key=value")
        out[key.strip()] = value.strip()
    return out


def count(settings: Mapping[str, str], param: Param) -> int:
    """Parse a count parameter early, because other parameters depend on it."""
    value = param.parse(settings.get(param.key, param.default))
    assert isinstance(value, int)
    return value
