"""Finding model families and their properties by name, or in a user's own file.

The catalog module (default `explorer.specs.catalog`, i.e. specs/catalog.py, or
$EXPLORER_CATALOG) lists
Entry objects; the engine imports it by name and never the models directly.
A model given as a file (`explorer check path/to/model.py`) or a module
(`explorer check package.module`) is a user's own: the module defines
FAMILY (a Family) and PROPERTIES (PropertySpecs), see the README, "Model your
own protocol".
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from .lang.family import BadInput, Family, PropertySpec
from .smt.spec import ProofSpec


@dataclass(frozen=True)
class Entry:
    family: Family
    properties: tuple[PropertySpec, ...]
    # Where a user's model came from: its file (absolute) or module name; "" built in.
    source: str = ""

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
        if is_reference(name):
            return load_user(name)
        known = ", ".join(e.name for e in self.entries)
        raise BadInput(f"unknown model {name!r} (known: {known}; or a file model.py, "
                       "or a module package.module)")

    def proof(self, name: str) -> ProofSpec:
        if name not in self.proof_modules:
            known = ", ".join(self.proof_modules) or "none"
            raise BadInput(f"unknown proof spec {name!r} (known: {known})")
        spec = importlib.import_module(self.proof_modules[name]).SPEC
        assert isinstance(spec, ProofSpec) and spec.name == name
        return spec


def load(module: str | None = None) -> Catalog:
    name = module or os.environ.get("EXPLORER_CATALOG", "explorer.specs.catalog")
    mod = importlib.import_module(name)
    return Catalog(tuple(mod.ENTRIES), mod.DEFAULT_MODEL, dict(getattr(mod, "PROOFS", {})))


def is_reference(name: str) -> bool:
    """A model named by file (has a / or ends in .py) or by dotted module name."""
    return name.endswith(".py") or "/" in name or os.sep in name or "." in name


_LOADED: dict[str, Entry] = {}


def load_user(ref: str) -> Entry:
    """A user's model: FAMILY and PROPERTIES of the file or module `ref`. Every
    problem is a BadInput of one line naming the file (or module) and the cause."""
    is_file = ref.endswith(".py") or "/" in ref or os.sep in ref
    key = str(Path(ref).resolve()) if is_file else ref
    if key in _LOADED:
        return _LOADED[key]
    module = _import_file(ref, Path(key)) if is_file else _import_module(ref)
    where = ref
    family = getattr(module, "FAMILY", None)
    if family is None:
        raise BadInput(f"{where}: defines no model family (FAMILY = an instance of "
                       "explorer.lang.family.Family)")
    if isinstance(family, type) and issubclass(family, Family):
        raise BadInput(f"{where}: FAMILY is the class {family.__name__}, not an instance "
                       f"(write FAMILY = {family.__name__}())")
    if not isinstance(family, Family):
        raise BadInput(f"{where}: FAMILY is a {type(family).__name__}, not an "
                       "explorer.lang.family.Family")
    if not family.name or not isinstance(family.name, str):
        raise BadInput(f"{where}: the family has no name (set name = \"...\" on the class)")
    if not family.scenarios:
        raise BadInput(f"{where}: family {family.name} has no scenarios (at least "
                       "Scenario(\"default\", ...))")
    props = getattr(module, "PROPERTIES", ())
    if not isinstance(props, tuple | list) or not all(
        isinstance(p, PropertySpec) for p in props
    ):
        raise BadInput(f"{where}: PROPERTIES must be a tuple of "
                       "explorer.lang.family.PropertySpec")
    names = [p.name for p in props]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise BadInput(f"{where}: property {dup[0]!r} defined twice")
    entry = Entry(family, tuple(props), key)
    _LOADED[key] = entry
    return entry


def _import_file(ref: str, path: Path) -> ModuleType:
    if not path.is_file():
        raise BadInput(f"{ref}: no such model file")
    # A name of its own per file, so two users' model.py never collide in sys.modules.
    name = "explorer_user_" + hashlib.sha1(str(path).encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise BadInput(f"{ref}: cannot be imported as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    # The file's folder is importable while it loads, for modules beside it.
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    except BaseException as err:
        sys.modules.pop(name, None)
        if isinstance(err, KeyboardInterrupt | SystemExit):
            raise
        raise BadInput(f"{ref}: cannot import: {_why(err, path)}") from None
    finally:
        sys.path.remove(str(path.parent))
    return module


def _import_module(ref: str) -> ModuleType:
    # As `python -m` does, the current folder is where a dotted name is looked up first.
    here = os.getcwd()
    sys.path.insert(0, here)
    try:
        return importlib.import_module(ref)
    except ModuleNotFoundError as err:
        if err.name and ref.startswith(err.name):
            raise BadInput(f"{ref}: no such module (nor a model file: a file's name ends "
                           "in .py)") from None
        raise BadInput(f"{ref}: cannot import: {_why(err, None)}") from None
    except Exception as err:
        raise BadInput(f"{ref}: cannot import: {_why(err, None)}") from None
    finally:
        sys.path.remove(here)


def _why(err: BaseException, path: Path | None) -> str:
    """The cause of an import failure in one line, with the user's line number."""
    if isinstance(err, SyntaxError):
        return f"{type(err).__name__}: {err.msg} (line {err.lineno})"
    tb = err.__traceback__
    line = None
    while tb is not None:
        if path is None or Path(tb.tb_frame.f_code.co_filename) == path:
            line = tb.tb_lineno
        tb = tb.tb_next
    at = f" (line {line})" if line is not None and path is not None else ""
    return f"{type(err).__name__}: {err}{at}"
