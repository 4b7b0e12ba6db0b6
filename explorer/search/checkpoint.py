"""Checkpoint and resume of long explorations (`explorer check --checkpoint/--resume`).

A checkpoint is one JSON file: a header that says which run it belongs to
(model, scenario, parameters, mutant, SRCU and memory model, strategy,
max_steps, a fingerprint of the compiled program, the tool's version), the
statistics so far, and the strategy's own state (see dpor.py and dfs.py: the
current execution as its transitions plus what each depth still has to
explore, and the memos). A resumed run replays that execution to rebuild what
follows from it and goes on where the search was: nothing is explored twice,
and the totals are those of an uninterrupted run.

A search saves only at its safe points, where its state is consistent: the
end of an execution (DPOR) or the top of the loop (DFS). The clock is looked
at when Meter.poll runs anyway (every CHECK_EVERY events); a signal or a
timeout only sets a flag, and the next safe point saves and stops. The file
is replaced atomically (temporary file in the same folder, fsync, rename), so
a SIGKILL during a save leaves the previous checkpoint intact.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..compile.program import Program
from ..lang.family import BadInput
from .budget import OutOfBudget
from .result import ERROR, HOLDS, VIOLATED, Result, Stats

if TYPE_CHECKING:
    from .budget import Meter

FORMAT = "explorer-checkpoint"
VERSION = 1
DEFAULT_EVERY = 60.0  # seconds between two saves
RESUMABLE = ("optimal", "dpor", "stateful", "naive")

Snapshot = Callable[[], tuple[dict[str, Any], Stats]]  # the strategy's state, the stats


class Stopped(OutOfBudget):
    """The search stopped at a safe point (a signal, a timeout, a budget), its
    state saved in the checkpoint when that worked: the run is incomplete."""


class Corrupt(Exception):
    """A checkpoint's state that does not fit the program (raised while decoding)."""


@dataclass(frozen=True)
class Plan:
    """What the command line asked for."""

    path: str  # where to save
    every: float = DEFAULT_EVERY
    resume: str | None = None  # the checkpoint to continue
    # For tests: stop as a SIGINT would at the first safe point with this many executions.
    interrupt_after: int | None = None


def fingerprint(program: Program) -> str:
    """The compiled program, as far as a search depends on it: the model (its repr
    is deterministic), the state layout and every step's footprint."""
    import hashlib  # hashlib and signal load only when checkpointing: a plain check starts

    h = hashlib.sha256(repr(program.model).encode())
    h.update(repr(program.names).encode())
    for code in program.threads:
        h.update(repr([(cs.rmask, cs.wmask, cs.choices) for cs in code.steps]).encode())
    return h.hexdigest()


def engine() -> str:
    """The search code a checkpoint's state means something to: a saved wakeup tree
    is not resumed by a changed DPOR (the version number alone moves too rarely)."""
    import hashlib

    h = hashlib.sha256()
    here = Path(__file__).parent
    for name in ("dpor.py", "dfs.py", "checkpoint.py", "../compile/program.py"):
        with suppress(OSError):
            h.update((here / name).read_bytes())
    return h.hexdigest()


def identity(program: Program, strategy: str, max_steps: int, **run: Any) -> dict[str, Any]:
    """Everything a checkpoint must match to be resumed, normalised through JSON."""
    ident = {**run, "strategy": strategy, "max_steps": max_steps,
             "program": fingerprint(program), "tool": f"explorer {__version__}",
             "engine": engine()}
    normal: dict[str, Any] = json.loads(json.dumps(ident))
    return normal


def check_output(path: str, force: bool, resume: str | None) -> None:
    """Before the search: --checkpoint never replaces a file other than the one being
    resumed without --force, and its folder must exist (as graph.check_output)."""
    p = Path(path)
    if p.is_dir():
        raise BadInput(f"checkpoint file {p} is a folder")
    parent = p.parent if p.parent != Path() else Path(".")
    if not parent.is_dir():
        raise BadInput(f"checkpoint file {p}: no folder {parent}")
    if not os.path.lexists(p) or force:
        return
    if resume is not None and os.path.exists(resume) and os.path.samefile(p, resume):
        return
    hint = ""
    with suppress(OSError), open(p, "rb") as f:
        if f'"format": "{FORMAT}"'.encode() in f.read(200):
            hint = f"; to continue it: --resume {p}"
    raise BadInput(f"checkpoint file {p} exists (will not overwrite it without --force{hint})")


def _digest(stats: Any, state_text: str) -> str:
    """Of what the resumed run takes over: the totals and the search state."""
    import hashlib

    h = hashlib.sha256(json.dumps(stats, sort_keys=True).encode())
    h.update(state_text.encode())
    return h.hexdigest()


def _dump_state(state: dict[str, Any]) -> str:
    return json.dumps(state, separators=(",", ":"))


def load(path: str, ident: dict[str, Any]) -> dict[str, Any]:
    """Reads and checks a checkpoint for this run; every problem is a BadInput of one
    line naming the file."""
    where = f"checkpoint {path}"
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except FileNotFoundError:
        raise BadInput(f"{where}: no such file") from None
    except IsADirectoryError:
        raise BadInput(f"{where}: is a folder") from None
    except OSError as err:
        raise BadInput(f"{where}: cannot read it: {err.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise BadInput(f"{where}: truncated or corrupt (not JSON: {err})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise BadInput(f"{where}: not an explorer checkpoint file")
    if doc.get("version") != VERSION:
        raise BadInput(f"{where}: format version {doc.get('version')!r}; this explorer "
                       f"reads version {VERSION}")
    run, state = doc.get("run"), doc.get("state")
    if not isinstance(run, dict) or not isinstance(state, dict):
        raise BadInput(f"{where}: corrupt (no run or state)")
    if doc.get("digest") != _digest(doc.get("stats"), _dump_state(state)):
        raise BadInput(f"{where}: corrupt (its stats and state do not match its digest)")
    for key, want in ident.items():
        got = run.get(key)
        if got == want:
            continue
        if key == "program":
            raise BadInput(f"{where}: saved for another compiled program (the model "
                           "changed since)")
        if key == "engine" and run.get("tool") == ident.get("tool"):
            raise BadInput(f"{where}: saved by another build of the search engine "
                           "(explorer/search changed since)")
        if isinstance(got, dict) and isinstance(want, dict):  # name the parameter
            name = next(k for k in [*want, *got] if got.get(k) != want.get(k))
            key, got, want = f"parameter {name}", got.get(name), want.get(name)
        raise BadInput(f"{where}: a checkpoint of another run: {key} is "
                       f"{_shown(got)} there, {_shown(want)} here")
    try:
        stats = Stats(**{f.name: int(doc["stats"][f.name]) for f in fields(Stats)
                         if f.name != "seconds"})
        seconds = float(doc["seconds"])
        segments = int(doc["segments"])
    except (KeyError, TypeError, ValueError) as err:
        raise BadInput(f"{where}: corrupt (stats: {err})") from None
    if min(asdict(stats).values()) < 0 or not seconds >= 0:
        raise BadInput(f"{where}: corrupt (negative stats)")
    stats.seconds = seconds
    return {"stats": stats, "segments": segments, "state": state}


def _shown(value: Any) -> str:
    return "none" if value is None else json.dumps(value)


def write_atomically(path: str, *parts: str) -> None:
    """Replaces path by a file holding the parts, all or nothing: a crash at any point
    leaves either the old file or the new one."""
    p = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        mask = os.umask(0)  # mkstemp makes it private; a checkpoint is an ordinary file
        os.umask(mask)
        os.fchmod(fd, 0o666 & ~mask)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for part in parts:  # not joined first: the state can be large
                f.write(part)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
    try:  # the rename itself survives a power cut once the folder is synced
        dfd = os.open(p.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


class Checkpointer:
    """Saves a search's state at its safe points; holds the state it resumes from."""

    def __init__(self, plan: Plan, ident: dict[str, Any]):
        self.plan = plan
        self.ident = ident
        loaded = load(plan.resume, ident) if plan.resume is not None else None
        self.resumed: dict[str, Any] | None = None if loaded is None else loaded["state"]
        self.stats = Stats() if loaded is None else loaded["stats"]
        self.segments = 1 if loaded is None else loaded["segments"] + 1
        self.last = time.monotonic()
        self.written = False  # this run wrote plan.path
        self.error = ""  # why the last save failed

    @property
    def testing(self) -> bool:
        return self.plan.interrupt_after is not None

    def time_due(self) -> bool:
        return time.monotonic() - self.last >= self.plan.every

    def decode(self, restore: Callable[[dict[str, Any]], Any]) -> Any:
        """Runs a strategy's decoder on the resumed state; what does not fit is a
        BadInput naming the file, never a traceback or a wrong verdict."""
        assert self.resumed is not None
        try:
            return restore(self.resumed)
        except (Corrupt, KeyError, IndexError, TypeError, ValueError, AttributeError) as err:
            raise self.corrupt(err) from None

    def corrupt(self, err: Exception) -> BadInput:
        why = str(err) if isinstance(err, Corrupt) else f"{type(err).__name__}: {err}"
        return BadInput(f"checkpoint {self.plan.resume}: corrupt or not for this program "
                        f"({why})")

    def save(self, snapshot: Snapshot, seconds: float) -> bool:
        """Writes the checkpoint; a failure is reported on stderr (once per cause) and
        the search goes on: the verdict does not depend on it."""
        state, stats = snapshot()
        text = _dump_state(state)
        totals = {k: v for k, v in asdict(stats).items() if k != "seconds"}
        head = {
            "format": FORMAT, "version": VERSION, "run": self.ident,
            "saved": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "segments": self.segments, "seconds": round(seconds, 6), "stats": totals,
            "digest": _digest(totals, text),
        }
        # The header first and readable, then the state on one line.
        top = json.dumps(head, indent=1)[:-1].rstrip() + ',\n "state": '
        try:
            write_atomically(self.plan.path, top, text, "\n}\n")
        except OSError as err:
            why = err.strerror or str(err)
            if why != self.error:
                print(f"explorer: checkpoint not saved to {self.plan.path}: {why}",
                      file=sys.stderr)
            self.error = why
            return False
        finally:
            self.last = time.monotonic()  # the interval runs from the end of a save
        self.written, self.error = True, ""
        return True

    def safe_point(self, meter: Meter, snapshot: Snapshot, executions: int) -> None:
        """Called where the search can be saved, when meter.due: saves if the interval
        has passed, and saves and stops if a signal, a timeout or the test hook asks."""
        stop = meter.stop
        if not stop and self.testing and executions >= (self.plan.interrupt_after or 0):
            stop = f"interrupted after {executions} executions"
        if stop:
            self.halt(meter, stop, snapshot)
        if self.time_due():
            self.save(snapshot, meter.elapsed())
        meter.due = bool(meter.stop) or self.testing

    def halt(self, meter: Meter, reason: str, snapshot: Snapshot) -> None:
        """Saves and ends the search: incomplete, resumable from the checkpoint."""
        if self.save(snapshot, meter.elapsed()):
            raise Stopped(f"{reason}; checkpoint saved in {self.plan.path}")
        raise Stopped(f"{reason}; the checkpoint could not be saved in {self.plan.path} "
                      f"({self.error})")

    def finish(self, result: Result) -> None:
        """A complete run (or one that failed) needs no checkpoint: remove the file
        this run wrote or resumed; an incomplete one names it."""
        path = self.plan.path
        if result.verdict in (HOLDS, VIOLATED, ERROR):
            mine = self.written or (self.plan.resume is not None
                                    and os.path.abspath(self.plan.resume) == os.path.abspath(path))
            if mine:
                with suppress(OSError):
                    os.unlink(path)
        elif self.written:
            result.checkpoint = path


@contextmanager
def signals(meter: Meter) -> Iterator[None]:
    """SIGINT and SIGTERM stop the search at its next safe point, with a checkpoint;
    a second one stops it at once (KeyboardInterrupt: the last checkpoint stays)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    seen: list[int] = []

    def handler(signum: int, _frame: object) -> None:
        if seen:
            raise KeyboardInterrupt
        seen.append(signum)
        meter.stop = f"interrupted by {signal.Signals(signum).name}"
        meter.due = True

    old = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)
