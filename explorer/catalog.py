"""Finding model families and their properties by name.

The catalog module (default `specs.catalog`, or $EXPLORER_CATALOG) lists
Entry objects; the engine imports it by name and never the models directly.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass

from .family import BadInput, Family, PropertySpec
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
    proofs: tuple[ProofSpec, ...] = ()  # `explorer prove --spec NAME`

    def get(self, name: str | None) -> Entry:
        name = name or self.default
        for e in self.entries:
            if e.name == name:
                return e
        known = ", ".join(e.name for e in self.entries)
        raise BadInput(f"unknown model {name!r} (known: {known})")

    def proof(self, name: str) -> ProofSpec:
        for p in self.proofs:
            if p.name == name:
                return p
        known = ", ".join(p.name for p in self.proofs) or "none"
        raise BadInput(f"unknown proof spec {name!r} (known: {known})")


def load(module: str | None = None) -> Catalog:
    mod = importlib.import_module(module or os.environ.get("EXPLORER_CATALOG", "specs.catalog"))
    return Catalog(tuple(mod.ENTRIES), mod.DEFAULT_MODEL, tuple(getattr(mod, "PROOFS", ())))
