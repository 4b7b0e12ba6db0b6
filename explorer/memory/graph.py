"""Execution graphs of a compiled model: events, reads-from, coherence.

An event is one step a thread ran: the shared locations it read, each with
the event it read from (``INIT`` for the initial value), and the values it
stored. A thread whose next step's guard is false in the graph ends with a
*blocked* event: the step it waits at, with what it read. How a step is
ordered (``Access``) is read off the step as explorer/compile/lowering.py
reads it, so that both say the same of a machine.

Ghost variables are instrumentation: no shared store, guard, branch or local
may depend on one (``ghost_free``), so a graph fixes everything but their
values, which the order of its events gives (explorer.memory.machine).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..compile.program import CompiledStep, Program
from ..lang.expr import Ghost, Local, Shared, variables
from ..lang.model import ModelError, Switch

Src = tuple[int, int]  # (thread, index in its events) of the event read from
INIT: Src = (-1, -1)


@dataclass(frozen=True)
class Event:
    thread: int
    index: int  # its place in the thread's program order
    pc: int  # the step it runs (ThreadCode.steps index)
    reads: tuple[tuple[int, Src, int], ...]  # (shared slot, source, value read)
    writes: tuple[tuple[int, int], ...]  # (shared slot, value stored)
    blocked: bool = False  # the step's guard is false: it did not run
    choice: int | None = None
    # The thread's state before the step with the values read in their slots,
    # for the ghost updates (run when the machine places the event).
    before: tuple[int, ...] = ()


@dataclass(frozen=True)
class Access:
    """How one step's accesses are ordered on a machine (lowering's reading)."""

    cpu: str  # whose store buffer its stores enter
    direct: bool  # acts on memory, not through the buffer
    drains: tuple[str, ...]  # CPUs whose buffers must be empty before it
    drains_locs: bool  # PSO "relaxed": its own buffers of the locations it stores to
    new_epoch: bool  # PSO: smp_wmb() or a release store opens a new epoch first


def access(program: Program, cs: CompiledStep, mm: str) -> Access:
    thread = program.model.threads[cs.thread]
    step = cs.step
    home = thread.home
    cpu = step.cpu or home
    migrated = bool(step.cpu) and step.cpu != home
    if mm == "sc":
        return Access(cpu, True, (), False, False)
    direct = step.order in ("full", "relaxed") or migrated
    drain = step.fence == "mb" or step.order == "full" or migrated or (
        step.order == "relaxed" and mm == "tso")
    stores = any(n in program.model.shared for n in step.writes)
    return Access(
        cpu, direct, tuple(dict.fromkeys((cpu, home))) if drain else (),
        step.order == "relaxed" and mm == "pso" and not migrated,
        mm == "pso" and (step.fence == "wmb" or (step.order == "release" and stores)),
    )


def ghost_free(program: Program) -> None:
    """Refuses a model in which a ghost variable steers anything but ghosts."""
    for cs in program.iter_steps():
        step = cs.step
        exprs = [step.guard]
        if isinstance(step.next, Switch):
            exprs += [c for c, _ in step.next.cases]
        exprs += [rhs for lhs, rhs in step.update if isinstance(lhs, Shared | Local)]
        for e in exprs:
            ghosts = [v.name for v in variables(e) if isinstance(v, Ghost)]
            if ghosts:
                raise ModelError(
                    f"step {step.label!r} of {program.threads[cs.thread].name}: ghost "
                    f"{ghosts[0]!r} steers a shared store, a guard, a branch or a local "
                    "(ghosts are instrumentation)")


@dataclass(frozen=True)
class Graph:
    """A complete execution graph: every thread's events and coherence per location
    (the stores to it in order; the initial value comes first, implicitly)."""

    events: tuple[tuple[Event, ...], ...]
    co: tuple[tuple[int, tuple[Src, ...]], ...]

    def key(self) -> tuple:
        return (tuple(tuple((e.pc, e.reads, e.choice, e.blocked) for e in t)
                      for t in self.events), self.co)
