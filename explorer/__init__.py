"""Exhaustive interleaving explorer for Linux kernel concurrency protocols."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

# `explorer.assert_holds(...)` for tests, without making `import explorer` (which
# every CLI run does) load the engine first.
_TESTING = ("assert_holds", "assert_violated", "ExplorerCheckFailed",
            "ExplorationIncomplete", "ExplorationError")


def __getattr__(name: str) -> Any:
    if name in _TESTING:
        from . import testing

        return getattr(testing, name)
    raise AttributeError(f"module 'explorer' has no attribute {name!r}")
