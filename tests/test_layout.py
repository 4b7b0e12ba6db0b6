"""The engine's rooms (design-notes "Rooms"): data flows one way, so a module imports
only from its own room or the rooms above it; a type named only for annotations
(under TYPE_CHECKING) does not count."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Top to bottom. The top-level modules (api, cli, catalog, ...) are the bottom room
# but one; the report generators (tools) may use everything.
ROOMS = ("lang", "front", "compile", "memory", "search", "smt", "evidence", "gate",
         "cluster", "", "tools")


def _room(module: str) -> int:
    parts = module.split(".")
    if parts[0] != "explorer" or module == "explorer":
        return -1  # the standard library, a dependency, models/, specs/, the package
    return ROOMS.index(parts[1] if len(parts) > 2 and parts[1] in ROOMS else "")


def _is_module(package: str, name: str) -> bool:
    base = ROOT.joinpath(*package.split("."), name)
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for sub in node.body:
                lines.update(range(sub.lineno, (sub.end_lineno or sub.lineno) + 1))
    return lines


def _imports(path: Path) -> list[tuple[int, str]]:
    rel = path.relative_to(ROOT).with_suffix("")
    package = list(rel.parts[:-1])  # what a relative import starts from
    tree = ast.parse(path.read_text())
    skip = _type_checking_lines(tree)
    out = []
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            mod = ".".join(base + ([node.module] if node.module else []))
            if node.module is None or mod == "explorer":  # modules, or the package's names
                out += [(node.lineno, f"{mod}.{a.name}" if _is_module(mod, a.name) else mod)
                        for a in node.names]
            else:
                out.append((node.lineno, mod))
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
    return out


def test_every_module_imports_only_from_rooms_above_it() -> None:
    wrong = []
    for path in sorted((ROOT / "explorer").rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        mine = _room(module if path.name != "__init__.py" else module + ".__init__")
        for line, target in _imports(path):
            if _room(target) > mine:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert not wrong, "\n".join(wrong)


def test_the_rooms_exist_and_nothing_is_left_beside_them() -> None:
    top = {p.stem for p in (ROOT / "explorer").glob("*.py")}
    assert top <= {"__init__", "__main__", "api", "args", "catalog", "ci", "cli", "prove_cli",
                   "testing"}
    for room in ("lang", "compile", "search", "smt", "evidence", "gate", "tools"):
        assert (ROOT / "explorer" / room / "__init__.py").is_file()
