"""Shared by the tests: names taken from the models, not typed again, and the CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from explorer.models.guest_memfd import MUTANTS as _MUTANTS

ROOT = Path(__file__).resolve().parent.parent

MUTANTS = tuple(m.name for m in _MUTANTS)


def cli(*args: str, timeout: float = 60, cwd: Path | None = None
        ) -> subprocess.CompletedProcess[str]:
    """`python -m explorer ARGS` in a subprocess, from the repository root or `cwd`.

    From the root, `check` gets --no-schedule unless told where to write: a
    violation would otherwise leave a schedule file in the checkout. From a
    temporary `cwd` nothing is added (schedule files land there).
    """
    if cwd is None and args and args[0] == "check" and not (
        {"--schedule-out", "--no-schedule"} & set(args)
    ):
        args = (*args, "--no-schedule")
    env = {k: v for k, v in os.environ.items() if k not in ("EXPLORER_DEBUG", "EXPLORER_CATALOG")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "explorer", *args], cwd=cwd or ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)
