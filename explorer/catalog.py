"""Finding model families and their properties by name.

The catalog module (default `specs.catalog`, or $EXPLORER_CATALOG) lists
Entry objects; the engine imports it by name and never the models directly.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from .lang.family import BadInput, Family, PropertySpec
from .smt.spec import ProofSpec


@dataclass(frozen=True)
class Entry:
    family: Family
    properties: tuple[PropertySpec, ...]

    @property
    def name(self) -> str:
        return self.family.name


@dataclass(frozen=True)
class Catalog:
    entries: tuple[Entry, ...]
    default: str
    # `explorer prove --spec NAME`: name -> module defining SPEC, imported when
    # asked for (proofs import z3; a check should not pay for that).
    proof_modules: Mapping[str, str] = field(default_factory=dict)

    @property
    def proofs(self) -> list[ProofSpec]:
        return [self.proof(name) for name in self.proof_modules]

    def get(self, name: str | None) -> Entry:
        name = name or self.default
        for e in self.entries:
            if e.name == name:
                return e
        known = ", ".join(e.name for e in self.entries)
        raise BadInput(f"unknown model {name!r} (known: {known})")

    def proof(self, name: str) -> ProofSpec:
        if name not in self.proof_modules:
            known = ", ".join(self.proof_modules) or "none"
            raise BadInput(f"unknown proof spec {name!r} (known: {known})")
        spec = importlib.import_module(self.proof_modules[name]).SPEC
        assert isinstance(spec, ProofSpec) and spec.name == name
        return spec


def load(module: str | None = None) -> Catalog:
    mod = importlib.import_module(module or os.environ.get("EXPLORER_CATALOG", "specs.catalog"))
    return Catalog(tuple(mod.ENTRIES), mod.DEFAULT_MODEL, dict(getattr(mod, "PROOFS", {})))
