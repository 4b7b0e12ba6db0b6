"""Patch-level proof: the fallocate refactor of [PATCH v3 5/9], for every mode, offset, len.

Built from the model's own fallocate (models/guest_memfd.op_fallocate), not a
copy of its checks: one thread runs the patched kvm_gmem_fallocate() on inode
0, then the pre-patch one (the `fallocate-unchecked` mutant) on inode 1, with
the same symbolic mode, offset and len (free 64-bit values) and the same
symbolic flags; each writes its return value to a ghost. z3 unrolls the run
to its end (explorer/smt) and answers:

1. flags without GUEST_MEMFD_F_MAPPING_FROZEN: the two return the same value
   for every input (unsat of "they differ");
2. flags with it: the patched one returns -EPERM for every input, and the
   pre-patch results are characterised exactly: each claim below is proved
   equivalent by z3 (or refuted with a counterexample), with an example input
   z3 picks for each pre-patch result.

The pre-patch fallocate here still calls the patched kvm_gmem_get_folio()
(the mutant changes fallocate only), so on a frozen inode its allocations
themselves fail with -EPERM, one page at a time.
"""

from __future__ import annotations

from typing import Any

import z3
from explorer.models.guest_memfd import (
    EINVAL,
    EOPNOTSUPP,
    EPERM,
    FALLOC_FL_KEEP_SIZE,
    FALLOC_FL_PUNCH_HOLE,
    GUEST_MEMFD_F_MAPPING_FROZEN,
    PAGE_SIZE,
    _Ctx,
    _pages_in_range,
    breach_var,
    cache_var,
    flags_var,
    op_fallocate,
    window_var,
)
from explorer.models.srcu import AbstractSrcu

from explorer.compile.program import Program
from explorer.lang.expr import MASK, Expr, Ghost, Local, Var, eq, land, lnot, lor, ne
from explorer.lang.family import SYMBOLIC
from explorer.lang.model import Model, Thread, VarDecl
from explorer.lang.terms import bv, to_bool
from explorer.search.result import HOLDS, VIOLATED
from explorer.smt.cfg import longest_execution
from explorer.smt.encode import finished, unroll, value_at
from explorer.smt.spec import ProofSpec, SpecResult

PAGES = 2  # pages per inode: enough for a range that covers none, one or both
NEW, OLD = "result.patched", "result.pre-patch"
THREAD = "fallocate"
FULL = {"mode": (0, MASK), "offset": (0, MASK), "len": (0, MASK)}


def build(frozen: bool, pages: int = PAGES) -> Model:
    values: dict[str, Any] = {"pages": pages}
    domain = AbstractSrcu("srcu", [THREAD])
    low, high = ((GUEST_MEMFD_F_MAPPING_FROZEN, MASK) if frozen
                 else (0, GUEST_MEMFD_F_MAPPING_FROZEN - 1))
    shared: dict[str, VarDecl] = {}
    ghosts: dict[str, VarDecl] = {NEW: VarDecl(0, "signed"), OLD: VarDecl(0, "signed")}
    for n in (0, 1):
        shared[flags_var(n)] = VarDecl(0, "hex", "flags", symbolic="flags", low=low, high=high)
        for k in range(pages):
            shared[cache_var(n, k)] = VarDecl(0)
            ghosts[breach_var(n, k)] = VarDecl(0)
        ghosts[window_var(n)] = VarDecl(0)
    shared.update(domain.shared())
    ops = []
    for n, mutant, ghost in ((0, None, NEW), (1, "fallocate-unchecked", OLD)):
        ctx = _Ctx(values, mutant, domain, THREAD, 1)
        ops.append(op_fallocate(ctx, n, SYMBOLIC, SYMBOLIC, SYMBOLIC, key="fallocate", ranges=FULL,
                                result_ghost=ghost))
    return Model("fallocate-refactor", shared, ghosts, (Thread(THREAD, tuple(ops)),))


# The characterisation of the pre-patch results, in the C's own terms; z3 proves
# each equivalent to what the model computes (or refutes it).
MODE, OFFSET, LEN = Local("mode"), Local("offset"), Local("len")
NO_KEEP_SIZE = eq(MODE & FALLOC_FL_KEEP_SIZE, 0)
UNKNOWN_BITS = ne(MODE & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE), 0)
BAD_MODE = lor(NO_KEEP_SIZE, UNKNOWN_BITS)
MISALIGNED = ne((OFFSET | LEN) & (PAGE_SIZE - 1), 0)
PUNCH = ne(MODE & FALLOC_FL_PUNCH_HOLE, 0)


def _touches_a_page(off: Expr, ln: Expr, pages: int) -> Expr:
    return lor(*(_pages_in_range(off, ln, k) for k in range(pages)))


Claim = tuple[int, str, Expr]


def claims(pages: int) -> tuple[Claim, ...]:
    """Pre-patch result R and the exact condition for it, on an inode of `pages` pages."""
    covers = _touches_a_page(OFFSET, LEN, pages)
    return (
        (-EOPNOTSUPP, "!(mode & FALLOC_FL_KEEP_SIZE) || (mode & ~(KEEP_SIZE|PUNCH_HOLE))",
         BAD_MODE),
        (-EINVAL, "mode valid && !PAGE_ALIGNED(offset | len)",
         land(lnot(BAD_MODE), MISALIGNED)),
        (-EPERM, "mode valid, aligned, allocate, range covers a page (kvm_gmem_get_folio "
         "fails)", land(lnot(BAD_MODE), lnot(MISALIGNED), lnot(PUNCH), covers)),
        (0, "mode valid, aligned, and punch-hole or a range of no page",
         land(lnot(BAD_MODE), lnot(MISALIGNED), lor(PUNCH, lnot(covers)))),
    )


def _setup(
    frozen: bool, pages: int
) -> tuple[z3.Solver, z3.BitVecRef, z3.BitVecRef, dict[str, z3.BitVecRef]]:
    program = Program(build(frozen, pages))
    k = longest_execution(program).steps
    assert k is not None
    u = unroll(program, k)
    u.solver.add(finished(u, k))  # the run is over: both calls returned
    for i in range(k):  # one thread: it runs until it has returned (fewer runs to refute)
        u.solver.add(z3.Implies(u.sched[i] == u.stutter, finished(u, i)))
    if u.solver.check() != z3.sat:  # every claim below would hold vacuously
        raise RuntimeError("the fallocate proof model has no complete run: an encoder bug")
    new, old = value_at(u, k, Ghost(NEW)), value_at(u, k, Ghost(OLD))
    inputs = {name: inp.var for name, inp in u.inputs.items()}
    return u.solver, new, old, inputs


def _signed(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def _example(s: z3.Solver, inputs: dict[str, z3.BitVecRef]) -> dict[str, str]:
    m = s.model()
    return {name: hex(m.eval(var, model_completion=True).as_long())
            for name, var in sorted(inputs.items())}


def _text(example: dict[str, str]) -> str:
    return ", ".join(f"{k.rpartition('.')[2]}={v}" for k, v in example.items())


def run(pages: int = PAGES, claim_set: tuple[Claim, ...] | None = None) -> SpecResult:
    lines: list[str] = []
    evidence: dict[str, Any] = {}
    verdict = HOLDS
    # 1. Not frozen: same result.
    s, new, old, inputs = _setup(False, pages)
    if s.check(new != old) == z3.unsat:
        lines.append("not frozen (flags bit 63 clear, any other flags): the patched and the "
                     "pre-patch kvm_gmem_fallocate() return the same value for every mode, "
                     "offset and len (z3: unsat)")
    else:
        verdict = VIOLATED
        differs = _example(s, inputs)
        evidence["not_frozen_differs"] = differs
        lines.append(f"not frozen: the results DIFFER, e.g. {_text(differs)}")
    # 2. Frozen: the patched one always says -EPERM.
    s, new, old, inputs = _setup(True, pages)
    if s.check(new != bv(-EPERM)) == z3.unsat:
        lines.append("frozen: the patched kvm_gmem_fallocate() returns -EPERM for every mode, "
                     "offset and len (z3: unsat)")
    else:
        verdict = VIOLATED
        bad = _example(s, inputs)
        evidence["frozen_not_eperm"] = bad
        lines.append(f"frozen: the patched one does NOT always return -EPERM, e.g. {_text(bad)}")
    # 3. What the pre-patch one returned instead, exactly.
    named: dict[Var, z3.BitVecRef] = {
        Local(name.rpartition(".")[2]): var for name, var in inputs.items()}
    env = named.__getitem__
    lines.append("frozen, pre-patch result -> now -EPERM; z3 proves each condition exact "
                 "(result == R  <=>  condition):")
    seen: list[int] = []
    for value, text, cond in claim_set or claims(pages):
        c = to_bool(cond, env)
        exact = s.check(z3.Xor(old == bv(value), c)) == z3.unsat
        ex: dict[str, str] = {}
        if s.check(old == bv(value)) == z3.sat:
            ex = _example(s, inputs)
        evidence[str(value)] = {"condition": text, "proved": exact, "example": ex}
        if not exact:
            verdict = VIOLATED
        mark = "proved" if exact else "REFUTED"
        name = {-EOPNOTSUPP: "-EOPNOTSUPP", -EINVAL: "-EINVAL", -EPERM: "-EPERM", 0: "0"}[value]
        lines.append(f"  {name:<12} iff {text}: {mark}"
                     + (f"; example {_text(ex)}" if ex else "; no input gives it"))
        seen.append(value)
    others = z3.And(*(old != bv(v) for v in seen))
    if s.check(others) == z3.sat:
        verdict = VIOLATED
        m = s.model()
        lines.append(f"  another pre-patch result exists: "
                     f"{_signed(m.eval(old).as_long())} ({_text(_example(s, inputs))})")
    else:
        lines.append("  no other pre-patch result is possible (z3: unsat)")
    return SpecResult(verdict, lines, evidence)


SPEC = ProofSpec(
    "fallocate-refactor",
    "patched vs pre-patch kvm_gmem_fallocate() for every mode, offset and len (z3)",
    lambda: run(),
)
