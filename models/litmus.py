"""Litmus tests: tiny programs whose one interesting outcome each memory model allows or forbids.

Each scenario is one classic test (SB, MP, LB, 2+2W, IRIW, WRC and RMW
variants), written with the kernel's accesses (WRITE_ONCE, smp_mb(),
smp_store_release(), xchg(), atomic_inc(), ...). Process ``Pn`` is thread
``Pn`` on its own CPU. A register ``rK`` of ``Pn`` is both a local of the
operation (so later instructions can use it) and the ghost ``rK.Pn``, which
the load writes in the same step: properties read ghosts, never locals.
Registers start at -1 ("not loaded yet") rather than 0, so an outcome that
asks for a register to be 0 needs the load to have run and read 0.

The interesting ("weak") outcome of each test is data here
(``Litmus.outcome``); specs/litmus.py turns it into the final property
``weak-outcome-absent``, and tests/test_litmus.py holds the published
verdict of each test on each memory model. Test names follow
tools/memory-model/litmus-tests in the kernel where the test is there
(``Litmus.lkmm``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from explorer.lang import access
from explorer.lang.access import StepFields
from explorer.lang.builder import OpBuilder
from explorer.lang.expr import ExprLike, Ghost, Local, Shared
from explorer.lang.family import Family, Param, Scenario
from explorer.lang.model import DONE, Model, ModelError, Operation, Thread, VarDecl

UNLOADED = -1  # a register's value before its load runs


def register(reg: str, proc: str) -> str:
    """The ghost holding register ``reg`` of process ``proc``: "r0.P0"."""
    return f"{reg}.{proc}"


@dataclass(frozen=True)
class Ins:
    """One instruction of a process: its C text and the step fields of its access.

    ``reg`` names the register the instruction loads into (its ghost is
    added to the step when the process is built), "" when it loads none.
    """

    code: str
    tag: str  # short label part: "store_x", "mb", "load_y"
    fields: StepFields
    reg: str = ""


_STORE_CODE = {"once": "WRITE_ONCE({x}, {v});", "plain": "{x} = {v};",
               "release": "smp_store_release(&{x}, {v});"}
_LOAD_CODE = {"once": "{r} = READ_ONCE({x});", "plain": "{r} = {x};",
              "acquire": "{r} = smp_load_acquire(&{x});"}
_FENCE_CODE = {"mb": "smp_mb();", "rmb": "smp_rmb();", "wmb": "smp_wmb();"}
_XCHG_CODE = {"full": "{r} = xchg(&{x}, {v});", "relaxed": "{r} = xchg_relaxed(&{x}, {v});"}
_INC_CODE = {"relaxed": "atomic_inc(&{x});", "plain": "this_cpu_inc({x});"}


def W(x: str, v: int, order: str = "once") -> Ins:
    return Ins(_STORE_CODE[order].format(x=x, v=v), f"store_{x}", access.store(x, v, order))


def R(reg: str, x: str, order: str = "once") -> Ins:
    return Ins(_LOAD_CODE[order].format(r=reg, x=x), f"load_{x}",
               access.load(x, Local(reg), order), reg)


def F(kind: str) -> Ins:
    return Ins(_FENCE_CODE[kind], kind, access.fence(kind))


def XCHG(reg: str, x: str, v: int, order: str = "full") -> Ins:
    return Ins(_XCHG_CODE[order].format(r=reg, x=x, v=v), f"xchg_{x}",
               access.xchg(x, v, Local(reg), order), reg)


def INC(x: str, order: str = "relaxed") -> Ins:
    return Ins(_INC_CODE[order].format(x=x), f"inc_{x}", access.inc(x, order))


def W_EXPR(x: str, v: ExprLike, text: str) -> Ins:
    """``x = <text>;``: a plain store of a value computed from registers."""
    return Ins(f"{x} = {text};", f"store_{x}", access.store(x, v, "plain"))


@dataclass(frozen=True)
class Litmus:
    name: str
    doc: str  # what the test asks
    procs: tuple[tuple[Ins, ...], ...]  # process Pn's instructions, in program order
    # The weak outcome: ghost register ("r0.P1") or shared location ("x", its
    # final value in memory) -> value; all of them together.
    outcome: tuple[tuple[str, int], ...]
    lkmm: str = ""  # the file in tools/memory-model/litmus-tests, when there is one

    @property
    def locations(self) -> list[str]:
        """The shared locations the instructions touch (registers are not among them)."""
        seen: dict[str, None] = {}
        for proc in self.procs:
            for ins in proc:
                for name in (*ins.fields.get("reads", ()), *ins.fields.get("writes", ())):
                    seen[name] = None
        return sorted(seen)

    def registers(self) -> list[tuple[str, str]]:
        """(process, register) pairs, in process order."""
        return [(f"P{p}", ins.reg) for p, proc in enumerate(self.procs) for ins in proc if ins.reg]

    def register_names(self) -> set[str]:
        return {register(reg, proc) for proc, reg in self.registers()}

    def describe_outcome(self) -> str:
        return " and ".join(f"{k}={v}" for k, v in self.outcome)

    def var(self, name: str) -> Ghost | Shared:
        """An outcome name as a variable: a register's ghost, else a shared location."""
        return Ghost(name) if name in self.register_names() else Shared(name)

    @property
    def marks_done(self) -> bool:
        """Whether each process records its end in the ghost ``done.Pn``.

        Needed when the outcome reads memory: a run with a process removed
        (the report's counterexample shrinking does that) must not count as
        the outcome, as two increments with one removed would leave x=1.
        Registers need no mark: they stay -1 unless their load ran.
        """
        return any(isinstance(self.var(k), Shared) for k, _ in self.outcome)


def done(proc: str) -> str:
    return f"done.{proc}"


def _r(reg: str, proc: int) -> str:
    return register(reg, f"P{proc}")


TESTS: tuple[Litmus, ...] = (
    Litmus("SB", "store buffering: can both loads miss the other CPU's store?",
           ((W("x", 1), R("r0", "y")), (W("y", 1), R("r0", "x"))),
           ((_r("r0", 0), 0), (_r("r0", 1), 0)), "SB+poonceonces.litmus"),
    Litmus("SB+mbs", "store buffering with smp_mb() between the store and the load",
           ((W("x", 1), F("mb"), R("r0", "y")), (W("y", 1), F("mb"), R("r0", "x"))),
           ((_r("r0", 0), 0), (_r("r0", 1), 0)), "SB+fencembonceonces.litmus"),
    Litmus("SB+rfi", "store buffering where each CPU first reads its own store back "
           "(store forwarding)",
           ((W("x", 1), R("r0", "x"), R("r1", "y")), (W("y", 1), R("r0", "y"), R("r1", "x"))),
           ((_r("r0", 0), 1), (_r("r1", 0), 0), (_r("r0", 1), 1), (_r("r1", 1), 0)),
           "SB+rfionceonce-poonceonces.litmus"),
    Litmus("SB+xchgs", "store buffering with the stores done by xchg() (fully ordered RMW)",
           ((XCHG("r1", "x", 1), R("r0", "y")), (XCHG("r1", "y", 1), R("r0", "x"))),
           ((_r("r0", 0), 0), (_r("r0", 1), 0))),
    Litmus("SB+xchg-relaxeds", "store buffering with the stores done by xchg_relaxed()",
           ((XCHG("r1", "x", 1, "relaxed"), R("r0", "y")),
            (XCHG("r1", "y", 1, "relaxed"), R("r0", "x"))),
           ((_r("r0", 0), 0), (_r("r0", 1), 0))),
    Litmus("MP", "message passing: can the reader see the flag but not the data?",
           ((W("x", 1), W("y", 1)), (R("r0", "y"), R("r1", "x"))),
           ((_r("r0", 1), 1), (_r("r1", 1), 0)), "MP+poonceonces.litmus"),
    Litmus("MP+wmb+rmb", "message passing with smp_wmb() and smp_rmb()",
           ((W("x", 1), F("wmb"), W("y", 1)), (R("r0", "y"), F("rmb"), R("r1", "x"))),
           ((_r("r0", 1), 1), (_r("r1", 1), 0)), "MP+fencewmbonceonce+fencermbonceonce.litmus"),
    Litmus("MP+wmb", "message passing with smp_wmb() in the writer only",
           ((W("x", 1), F("wmb"), W("y", 1)), (R("r0", "y"), R("r1", "x"))),
           ((_r("r0", 1), 1), (_r("r1", 1), 0))),
    Litmus("MP+rmb", "message passing with smp_rmb() in the reader only",
           ((W("x", 1), W("y", 1)), (R("r0", "y"), F("rmb"), R("r1", "x"))),
           ((_r("r0", 1), 1), (_r("r1", 1), 0))),
    Litmus("MP+rel-acq", "message passing with smp_store_release() / smp_load_acquire()",
           ((W("x", 1), W("y", 1, "release")), (R("r0", "y", "acquire"), R("r1", "x"))),
           ((_r("r0", 1), 1), (_r("r1", 1), 0)), "MP+pooncerelease+poacquireonce.litmus"),
    Litmus("MP+xchg", "message passing with the flag set by xchg() (fully ordered RMW)",
           ((W("x", 1), XCHG("r0", "y", 1)), (R("r0", "y"), R("r1", "x"))),
           ((_r("r0", 1), 1), (_r("r1", 1), 0))),
    Litmus("MP+xchg-relaxed", "message passing with the flag set by xchg_relaxed()",
           ((W("x", 1), XCHG("r0", "y", 1, "relaxed")), (R("r0", "y"), R("r1", "x"))),
           ((_r("r0", 1), 1), (_r("r1", 1), 0))),
    Litmus("LB", "load buffering: can each load see the other CPU's later store?",
           ((R("r0", "x"), W("y", 1)), (R("r0", "y"), W("x", 1))),
           ((_r("r0", 0), 1), (_r("r0", 1), 1)), "LB+poonceonces.litmus"),
    Litmus("2+2W", "two CPUs store to x and y in opposite orders: can each CPU's "
           "first store be the last one to reach memory?",
           ((W("x", 1), W("y", 2)), (W("y", 1), W("x", 2))),
           (("x", 1), ("y", 1))),
    Litmus("2+2W+wmbs", "2+2W with smp_wmb() between the stores",
           ((W("x", 1), F("wmb"), W("y", 2)), (W("y", 1), F("wmb"), W("x", 2))),
           (("x", 1), ("y", 1))),
    Litmus("WRC", "write-to-read causality: P1 forwards P0's store; can P2 see P1's "
           "store but not P0's?",
           ((W("x", 1),), (R("r0", "x"), W("y", 1)), (R("r0", "y"), R("r1", "x"))),
           ((_r("r0", 1), 1), (_r("r0", 2), 1), (_r("r1", 2), 0)),
           "WRC+poonceonces+Once.litmus"),
    Litmus("IRIW", "independent reads of independent writes: can two readers see the "
           "two stores in opposite orders?",
           ((W("x", 1),), (W("y", 1),), (R("r0", "x"), R("r1", "y")),
            (R("r0", "y"), R("r1", "x"))),
           ((_r("r0", 2), 1), (_r("r1", 2), 0), (_r("r0", 3), 1), (_r("r1", 3), 0)),
           "IRIW+poonceonces+OnceOnce.litmus"),
    Litmus("IRIW+mbs", "IRIW with smp_mb() between each reader's loads",
           ((W("x", 1),), (W("y", 1),), (R("r0", "x"), F("mb"), R("r1", "y")),
            (R("r0", "y"), F("mb"), R("r1", "x"))),
           ((_r("r0", 2), 1), (_r("r1", 2), 0), (_r("r0", 3), 1), (_r("r1", 3), 0)),
           "IRIW+fencembonceonces+OnceOnce.litmus"),
    Litmus("INC+atomic", "two atomic_inc() of one counter: can an increment be lost?",
           ((INC("x"),), (INC("x"),)), (("x", 1),)),
    Litmus("INC+this_cpu", "two this_cpu_inc() (a single unlocked read-modify-write "
           "instruction) of one location from two CPUs: can an increment be lost?",
           ((INC("x", "plain"),), (INC("x", "plain"),)), (("x", 1),)),
    Litmus("INC+plain", "two increments as a separate load and store: can an "
           "increment be lost? (a data race: yes, even under SC)",
           ((R("r0", "x", "plain"), W_EXPR("x", Local("r0") + 1, "r0 + 1")),
            (R("r0", "x", "plain"), W_EXPR("x", Local("r0") + 1, "r0 + 1"))),
           (("x", 1),)),
)
BY_NAME = {t.name: t for t in TESTS}


def _with_register(fields: StepFields, reg: str, ghost: str) -> StepFields:
    """The step also writes the register's ghost with the value it puts in the local."""
    update = dict(fields["update"])
    update[Ghost(ghost)] = update[Local(reg)]
    return {**fields, "writes": [*fields.get("writes", ()), ghost], "update": update}


def _process(test: Litmus, p: int) -> Operation:
    proc = f"P{p}"
    b = OpBuilder(f"{test.name} {proc}", f"litmus {test.name}")
    labels = [f"{i}.{ins.tag}" for i, ins in enumerate(test.procs[p])]
    for i, ins in enumerate(test.procs[p]):
        fields = ins.fields
        if ins.reg:
            b.local(ins.reg, UNLOADED, "signed")
            fields = _with_register(fields, ins.reg, register(ins.reg, proc))
        last = i + 1 == len(labels)
        if last and test.marks_done:
            fields = {**fields, "writes": [*fields.get("writes", ()), done(proc)],
                      "update": {**fields.get("update", {}), Ghost(done(proc)): 1}}
        nxt = DONE if last else labels[i + 1]
        b.add(labels[i], f"litmus/{test.name} {proc}", ins.code, next=nxt, **fields)
    return b.build()


class LitmusFamily(Family):
    name = "litmus"
    description = "classic litmus tests (SB, MP, LB, 2+2W, IRIW, WRC, RMW variants)"
    scenarios = tuple(
        Scenario(t.name, f"{t.doc}; weak outcome {t.describe_outcome()}", {"test": t.name})
        for t in TESTS
    )
    default_scenario = "SB"

    def params(self, settings: Mapping[str, str]) -> list[Param]:
        return [Param("test", "SB", "the litmus test to run", kind="choice",
                      choices=tuple(BY_NAME))]

    def build(self, values: Mapping[str, Any], mutant: str | None, srcu: str) -> Model:
        test = BY_NAME[values["test"]]
        shared = {x: VarDecl(0, "dec", f"shared location {x}") for x in test.locations}
        ghosts = {register(reg, proc): VarDecl(UNLOADED, "signed",
                                               f"register {reg} of {proc} (-1: not loaded)")
                  for proc, reg in test.registers()}
        if test.marks_done:
            ghosts.update({done(f"P{p}"): VarDecl(0, "bool", f"P{p} has run to its end")
                           for p in range(len(test.procs))})
        unknown = {k for k, _ in test.outcome} - set(shared) - set(ghosts)
        if unknown:  # a typo in TESTS
            raise ModelError(f"litmus {test.name}: outcome names unknown {sorted(unknown)}")
        threads = tuple(Thread(f"P{p}", (_process(test, p),)) for p in range(len(test.procs)))
        return Model("litmus", shared, ghosts, threads,
                     description=f"litmus {test.name}: {test.doc}")

