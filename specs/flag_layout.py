"""Patch-level proof: GUEST_MEMFD_F_MAPPING_FROZEN cannot come from userspace.

[PATCH v3 5/9] keeps its kernel-only FROZEN bit in the same u64 as the
creation flags (virt/kvm/guest_memfd.h: "Internal kernel-only flags (must not
overlap with UAPI flags)": GUEST_MEMFD_F_MAPPING_FROZEN = 1ULL << 63).

UAPI creation flags, include/uapi/linux/kvm.h, as in the kernel the series
applies to (mainline since v6.18; values read from the upstream header and
the patches that added them, as found on lore/kvm@vger):
  GUEST_MEMFD_FLAG_MMAP         (1ULL << 0)
  GUEST_MEMFD_FLAG_INIT_SHARED  (1ULL << 1)
and one proposed in flight, included so the proof covers it too:
  GUEST_MEMFD_FLAG_NO_DIRECT_MAP (1ULL << 2)   ("KVM: guest_memfd: no direct map")

Creation-time validation: virt/kvm/guest_memfd.c, kvm_gmem_create():
  if (flags & ~kvm_gmem_get_supported_flags(kvm)) return -EINVAL;
with include/linux/kvm_host.h, kvm_gmem_get_supported_flags():
  u64 flags = GUEST_MEMFD_FLAG_MMAP;
  if (!kvm || kvm_arch_supports_gmem_init_shared(kvm)) flags |= GUEST_MEMFD_FLAG_INIT_SHARED;
  (+ GUEST_MEMFD_FLAG_NO_DIRECT_MAP when the architecture supports it, proposed)
The architecture's answers are left symbolic: the proof holds for every one.

The checks are written in the model's expression language and translated by
explorer/lang/terms (the same translation the BMC encoder uses); the frozen
test is the model's own (models/guest_memfd._frozen, the
kvm_gmem_is_frozen() of the patch).
"""

from __future__ import annotations

from typing import Any

import z3
from explorer.models.guest_memfd import GUEST_MEMFD_F_MAPPING_FROZEN, _frozen, flags_var

from explorer.lang.expr import Expr, Local, Shared, Var, ite, ne
from explorer.lang.terms import to_bool, to_bv
from explorer.search.result import HOLDS, VIOLATED
from explorer.smt.spec import ProofSpec, SpecResult

UAPI_FLAGS = {
    "GUEST_MEMFD_FLAG_MMAP": 1 << 0,
    "GUEST_MEMFD_FLAG_INIT_SHARED": 1 << 1,
    "GUEST_MEMFD_FLAG_NO_DIRECT_MAP": 1 << 2,  # proposed
}
SOURCES = (
    "include/uapi/linux/kvm.h: GUEST_MEMFD_FLAG_MMAP = 1ULL<<0, "
    "GUEST_MEMFD_FLAG_INIT_SHARED = 1ULL<<1 (GUEST_MEMFD_FLAG_NO_DIRECT_MAP = 1ULL<<2 proposed)",
    "include/linux/kvm_host.h: kvm_gmem_get_supported_flags(); "
    "virt/kvm/guest_memfd.c: kvm_gmem_create(): flags & ~supported -> -EINVAL",
    "virt/kvm/guest_memfd.h (5/9): GUEST_MEMFD_F_MAPPING_FROZEN = 1ULL<<63",
)

FLAGS = Local("flags")  # args->flags, from userspace
ARCH_INIT_SHARED = Local("arch_init_shared")  # !kvm || kvm_arch_supports_gmem_init_shared()
ARCH_NO_DIRECT_MAP = Local("arch_no_direct_map")


def supported_flags() -> Expr:
    """kvm_gmem_get_supported_flags(kvm)."""
    init_shared = UAPI_FLAGS["GUEST_MEMFD_FLAG_INIT_SHARED"]
    no_direct_map = UAPI_FLAGS["GUEST_MEMFD_FLAG_NO_DIRECT_MAP"]
    return (Local("mmap") | ite(ne(ARCH_INIT_SHARED, 0), init_shared, 0)
            | ite(ne(ARCH_NO_DIRECT_MAP, 0), no_direct_map, 0))


def create_rejects() -> Expr:
    """kvm_gmem_create(): the flags check that returns -EINVAL."""
    return ne(FLAGS & ~supported_flags(), 0)


def run() -> SpecResult:
    flags, arch1, arch2 = z3.BitVecs("flags arch_init_shared arch_no_direct_map", 64)
    env_map: dict[Var, z3.BitVecRef] = {
        FLAGS: flags, ARCH_INIT_SHARED: arch1, ARCH_NO_DIRECT_MAP: arch2,
        Local("mmap"): z3.BitVecVal(UAPI_FLAGS["GUEST_MEMFD_FLAG_MMAP"], 64),
        Shared(flags_var(0)): flags,
    }
    env = env_map.__getitem__
    lines = [f"source: {s}" for s in SOURCES]
    evidence: dict[str, Any] = {"uapi_flags": {k: hex(v) for k, v in UAPI_FLAGS.items()},
                                "frozen": hex(GUEST_MEMFD_F_MAPPING_FROZEN)}
    verdict = HOLDS
    # 1. No overlap, whatever the architecture supports.
    s = z3.Solver()
    uapi = 0
    for v in UAPI_FLAGS.values():
        uapi |= v
    s.add(z3.BitVecVal(uapi, 64) & GUEST_MEMFD_F_MAPPING_FROZEN != 0)
    overlap_free = s.check() == z3.unsat
    s = z3.Solver()
    s.add(to_bv(supported_flags(), env) & GUEST_MEMFD_F_MAPPING_FROZEN != 0)
    supported_free = s.check() == z3.unsat
    ok = overlap_free and supported_free
    verdict = verdict if ok else VIOLATED
    lines.append(
        f"no overlap: GUEST_MEMFD_F_MAPPING_FROZEN ({GUEST_MEMFD_F_MAPPING_FROZEN:#x}) & "
        f"(UAPI flags {uapi:#x}) == 0 and & kvm_gmem_get_supported_flags() == 0 for every "
        f"architecture answer: {'proved (z3: unsat)' if ok else 'REFUTED'}")
    # 2. Userspace cannot set it: every flags value with bit 63 is rejected.
    s = z3.Solver()
    s.add(to_bool(_frozen(0), env), z3.Not(to_bool(create_rejects(), env)))
    rejected = s.check() == z3.unsat
    if not rejected:
        verdict = VIOLATED
        m = s.model()
        evidence["accepted_frozen"] = hex(m.eval(flags).as_long())
    lines.append("kvm_gmem_create() returns -EINVAL for every flags value with "
                 "GUEST_MEMFD_F_MAPPING_FROZEN set, on every architecture: "
                 + ("proved (z3: unsat)" if rejected else
                    f"REFUTED, flags={evidence['accepted_frozen']} is accepted"))
    # 3. So no inode starts frozen: kvm_gmem_is_frozen() is false for accepted flags.
    s = z3.Solver()
    s.add(z3.Not(to_bool(create_rejects(), env)), to_bool(_frozen(0), env))
    starts_thawed = s.check() == z3.unsat
    verdict = verdict if starts_thawed else VIOLATED
    lines.append("every inode kvm_gmem_create() accepts starts with kvm_gmem_is_frozen() "
                 f"false: {'proved (z3: unsat)' if starts_thawed else 'REFUTED'}")
    # z3's example: the flag alone, and with every supported flag, is rejected.
    s = z3.Solver()
    s.add(to_bool(_frozen(0), env), to_bool(create_rejects(), env),
          flags & ~z3.BitVecVal(GUEST_MEMFD_F_MAPPING_FROZEN, 64)
          == to_bv(supported_flags(), env))
    if s.check() == z3.sat:
        m = s.model()
        ex = {"flags": hex(m.eval(flags).as_long()),
              "arch_init_shared": int(m.eval(arch1).as_long() != 0),
              "arch_no_direct_map": int(m.eval(arch2).as_long() != 0)}
        evidence["example_rejected"] = ex
        lines.append(f"example (z3): flags={ex['flags']} (every supported flag plus FROZEN; "
                     f"arch init_shared={ex['arch_init_shared']}, "
                     f"no_direct_map={ex['arch_no_direct_map']}) -> -EINVAL")
    return SpecResult(verdict, lines, evidence)


SPEC = ProofSpec(
    "flag-layout",
    "GUEST_MEMFD_F_MAPPING_FROZEN (bit 63) overlaps no UAPI creation flag and "
    "kvm_gmem_create() rejects it (z3)",
    run,
)
