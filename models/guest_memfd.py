"""guest_memfd freeze/unfreeze (patch v3 5/9) and the preservation walk (6/9) as a model.

Read side by side with ``shared/seed/kvm-guest_memfd-freeze-v3-5of9.txt``:
every step carries the line of ``virt/kvm/guest_memfd.c`` *after* the patch
(lines of the pre-patch file are marked "pre-patch"). Patch 6/9
(``guest_memfd_luo.c``) is not in the seed; its preserve walk is modelled from
the series' description and marked "6/9".

What is abstracted, and why it does not matter for the freeze promise:
- a folio is a number in ``cache.iN.pK`` (0: no folio), the id of the thread
  that allocated it, or 100+K for folios present before the run;
- ``__filemap_get_folio_mpol(FGP_CREAT)`` and each folio removal by
  ``truncate_inode_pages_range()`` are single atomic page-cache updates
  (the xarray lock makes them so);
- ``filemap_invalidate_lock`` is modelled only with ``--set invalidate_lock=1``
  (and in the invalidate-lock-* variants): it orders fallocate against faults,
  not against freeze (reports/findings.md, question a).

Ghost variables (instrumentation read only by properties):
- ``frozen_window.iN.<freezer>``: 1 from the return of that freezer's freeze()
  until its own unfreeze begins (one per preserver, so that another
  preserver's unfreeze cannot close it unseen);
- ``breach.iN.pK``: the number of the first thread that changed index K of
  the page cache while the window was open (0: none). It is written by the
  same atomic step that changes the slot, so its value depends only on the
  order of conflicting steps, and it is per page so that writers of
  different pages stay independent;
- ``preserved.iN.<preserver>`` / ``recorded.iN.pK.<preserver>``: what each
  preserve walk recorded (cleared by its unpreserve or .unfreeze).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from explorer.lang import access
from explorer.lang.builder import OpBuilder
from explorer.lang.expr import (
    MASK,
    Const,
    Expr,
    ExprLike,
    Ghost,
    Local,
    Shared,
    Var,
    eq,
    ite,
    land,
    le,
    lnot,
    lor,
    lt,
    ne,
)
from explorer.lang.family import SYMBOLIC, BadInput, Family, Mutant, Param, Scenario, count
from explorer.lang.model import DONE, Choice, Model, Operation, Switch, Thread, VarDecl, branch

from .srcu import AbstractSrcu, SrcuDomain
from .srcu_impl import BARRIER_MUTANTS, ImplSrcu, removed_by, require_impl

GMEM = "virt/kvm/guest_memfd.c"
GMEM_OLD = "virt/kvm/guest_memfd.c (pre-patch)"
LUO = "virt/kvm/guest_memfd_luo.c (6/9)"
ALLOC = "virt/kvm/guest_memfd.c: kvm_gmem_allocate()"
PUNCH = "virt/kvm/guest_memfd.c: kvm_gmem_punch_hole()"

GUEST_MEMFD_F_MAPPING_FROZEN = 1 << 63
FALLOC_FL_KEEP_SIZE = 0x01
FALLOC_FL_PUNCH_HOLE = 0x02
PAGE_SIZE = 4096
EPERM, EINVAL, EOPNOTSUPP = 1, 22, 95
PREEXISTING = 100  # folio id of page K present before the run: 100 + K

MODES = {
    "allocate": (FALLOC_FL_KEEP_SIZE,),
    "punch-hole": (FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE,),
    "either": (FALLOC_FL_KEEP_SIZE, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE),
}
MODE_NAMES = {
    FALLOC_FL_KEEP_SIZE: "FALLOC_FL_KEEP_SIZE",
    FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE: "FALLOC_FL_KEEP_SIZE|FALLOC_FL_PUNCH_HOLE",
}
PRESERVER_OPS = ("preserve", "unpreserve", "freeze", "unfreeze")

MUTANTS = (
    Mutant("no-synchronize", "kvm_gmem_freeze() sets the flag but skips synchronize_srcu()"),
    Mutant(
        "check-before-lock",
        "kvm_gmem_get_folio() tests the frozen flag before srcu_read_lock()",
    ),
    Mutant(
        "unlock-before-alloc",
        "kvm_gmem_get_folio() calls srcu_read_unlock() before allocating the folio",
    ),
    Mutant(
        "flag-after-synchronize",
        "kvm_gmem_freeze() calls synchronize_srcu() before setting the flag",
    ),
    Mutant(
        "fallocate-unchecked",
        "kvm_gmem_fallocate() as before the patch: no SRCU section, no frozen check",
    ),
)

# Candidate fixes for two preservers of one inode (not in the series): variants that
# must hold where the posted code does not. `--mutant fix-...` checks one.
FIXES = (
    Mutant("fix-freeze-count", "fix: an atomic freeze count instead of the FROZEN bit "
           "(freeze: atomic_inc_return(); unfreeze: atomic_dec(); frozen while nonzero)"),
    Mutant("fix-ebusy", "fix: freeze() is test_and_set_bit(FROZEN): a second preserve of a "
           "frozen inode fails with -EBUSY before freezing, so it never unfreezes"),
    Mutant("fix-mutex", "candidate: a mutex around kvm_gmem_freeze()'s read-modify-write of "
           "the flags (the RMW becomes atomic; the flag stays a boolean)"),
)
FIX_NAMES = tuple(m.name for m in FIXES)

# The reviewer's question: would kvm_gmem_freeze() need filemap_invalidate_lock()? These
# variants take it (exclusive) in freeze; either models the lock in fallocate too.
INVALIDATE_VARIANTS = (
    Mutant("invalidate-lock-freeze", "variant: kvm_gmem_freeze() takes "
           "filemap_invalidate_lock() before setting the flag and drops it after "
           "synchronize_srcu() (the reviewer's proposal, held throughout)"),
    Mutant("invalidate-lock-flag", "variant: kvm_gmem_freeze() holds "
           "filemap_invalidate_lock() around setting the flag only, then synchronize_srcu()"),
)
INVALIDATE_NAMES = tuple(m.name for m in INVALIDATE_VARIANTS)
WRITER = 1 << 32  # the rwsem's writer bit; readers count below it
EBUSY = 16

SCENARIOS = (
    Scenario(
        "default",
        "1 preserver + 2 get_folio + 1 fallocate, 1 inode, 2 pages (page 0 present)",
    ),
    Scenario(
        "tiny",
        "1 preserver + 1 get_folio, 1 page: small enough for the naive strategy",
        {"get_folio": "1", "fallocate": "0", "pages": "1", "present": ""},
    ),
    Scenario(
        "small",
        "1 preserver + 1 get_folio + 1 fallocate, 1 page",
        {"get_folio": "1", "fallocate": "1", "pages": "1", "present": ""},
    ),
    Scenario(
        "faults",
        "1 preserver + 3 get_folio on 2 pages, no fallocate",
        {"get_folio": "3", "fallocate": "0"},
    ),
    Scenario(
        "repeat",
        "preserve, unpreserve, preserve again against 1 get_folio + 1 fallocate, 1 page",
        {
            "get_folio": "1",
            "fallocate": "1",
            "pages": "1",
            "present": "",
            "preserver.0.ops": "preserve,unpreserve,preserve",
        },
    ),
    Scenario(
        "refreeze",
        "freeze, unfreeze, freeze again (2 grace periods) against 1 get_folio, 1 page",
        {"get_folio": "1", "fallocate": "0", "pages": "1", "present": "",
         "preserver.0.ops": "freeze,unfreeze,freeze"},
    ),
    Scenario(
        "two-preservers",
        "2 preservers (inodes 0 and 1, one SRCU domain: their grace periods run one "
        "after the other) against 1 get_folio on inode 1, 1 page",
        {"inodes": "2", "preservers": "2", "preserver.1.inode": "1", "get_folio": "1",
         "get_folio.0.inode": "1", "fallocate": "0", "pages": "1", "present": ""},
    ),
    Scenario(
        "shared-inode",
        "2 preservers of one inode (two files, two sessions), both succeed, against 1 "
        "get_folio, 1 page",
        {"preservers": "2", "preserver.1.inode": "0", "get_folio": "1", "fallocate": "0",
         "pages": "1", "present": ""},
    ),
    Scenario(
        "shared-inode-fault",
        "2 preservers of one inode; preserver1's preserve fails on any of its error paths "
        "(each ends in unfreeze), against 1 get_folio of page 1, 2 pages (page 0 present)",
        {"preservers": "2", "preserver.1.inode": "0", "preserver.1.fault": "any",
         "get_folio": "1", "get_folio.0.page": "1", "fallocate": "0"},
    ),
    Scenario(
        "shared-inode-unpreserve",
        "2 preservers of one inode; preserver1 preserves, then its session is closed "
        "(unpreserve), against 1 get_folio, 1 page",
        {"preservers": "2", "preserver.1.inode": "0", "preserver.1.ops": "preserve,unpreserve",
         "get_folio": "1", "fallocate": "0", "pages": "1", "present": ""},
    ),
    Scenario(
        "luo-rollback",
        "2 sessions preserve one inode (at ioctl time) and freeze it at reboot (.freeze); "
        "a later file of preserver0's session fails, so the framework unfreezes its file "
        "(.unfreeze) while preserver1's stays frozen; 1 get_folio of page 1, 2 pages "
        "(page 0 present)",
        {"preservers": "2", "preserver.1.inode": "0",
         "preserver.0.ops": "preserve,freeze,unfreeze", "preserver.1.ops": "preserve,freeze",
         "get_folio": "1", "get_folio.0.page": "1", "fallocate": "0"},
    ),
    Scenario(
        "two-inodes",
        "2 inodes, one SRCU domain: preserve inode 0 while get_folio faults on both",
        {"inodes": "2", "get_folio": "2", "fallocate": "0", "get_folio.1.inode": "1",
         "present": ""},
    ),
)


# -- names of variables --------------------------------------------------------


def flags_var(n: int) -> str:
    return f"flags.i{n}"


def cache_var(n: int, k: int) -> str:
    return f"cache.i{n}.p{k}"


def window_var(n: int, who: str = "") -> str:
    """Freezer `who`'s window on inode n (one per preserver: each freezer relies on its
    own freeze, and only its own unfreeze ends that)."""
    return f"frozen_window.i{n}.{who}" if who else f"frozen_window.i{n}"


def count_var(n: int) -> str:
    return f"freeze_count.i{n}"  # fix-freeze-count


def lock_var(n: int) -> str:
    return f"freeze_lock.i{n}"  # fix-mutex


def invalidate_var(n: int) -> str:
    return f"invalidate_lock.i{n}"  # inode->i_mapping->invalidate_lock, a rwsem


def _models_invalidate_lock(values: Mapping[str, Any], mutant: str | None) -> bool:
    return bool(values.get("invalidate_lock", 0)) or mutant in INVALIDATE_NAMES


def _rwsem(b: OpBuilder, n: int, label: str, kind: str, nxt: str) -> None:
    """filemap_invalidate_{lock,unlock}{,_shared}(inode->i_mapping) on inode n."""
    v = Shared(invalidate_var(n))
    fm = "include/linux/fs.h"
    if kind == "down_read":
        b.add(label, fm, "filemap_invalidate_lock_shared(inode->i_mapping);",
              reads=[invalidate_var(n)], writes=[invalidate_var(n)],
              guard=eq(v & WRITER, 0), update={v: v + 1}, order="full",
              waits_for="filemap_invalidate_lock (shared)", next=nxt)
    elif kind == "up_read":
        b.add(label, fm, "filemap_invalidate_unlock_shared(inode->i_mapping);",
              reads=[invalidate_var(n)], writes=[invalidate_var(n)], update={v: v - 1},
              order="full", next=nxt)
    elif kind == "down_write":
        b.add(label, fm, "filemap_invalidate_lock(inode->i_mapping);",
              reads=[invalidate_var(n)], writes=[invalidate_var(n)], guard=eq(v, 0),
              update={v: WRITER}, order="full", waits_for="filemap_invalidate_lock", next=nxt)
    else:
        b.add(label, fm, "filemap_invalidate_unlock(inode->i_mapping);",
              **access.store(invalidate_var(n), 0, "release"), next=nxt)


def session_var(who: str) -> str:
    return f"luo.preserved.{who}"  # the live-update session's record of the file


def breach_var(n: int, k: int) -> str:
    return f"breach.i{n}.p{k}"


def preserved_var(n: int, who: str = "") -> str:
    return f"preserved.i{n}.{who}" if who else f"preserved.i{n}"


def recorded_var(n: int, k: int, who: str = "") -> str:
    return f"recorded.i{n}.p{k}.{who}" if who else f"recorded.i{n}.p{k}"


# -- parameters ------------------------------------------------------------------

P_INODES = Param("inodes", "1", "guest_memfd inodes (one SRCU domain for all)", low=1, high=4)
P_PAGES = Param("pages", "2", "pages per inode", low=1, high=8)
P_GET_FOLIO = Param("get_folio", "2", "threads running kvm_gmem_get_folio()", low=0, high=8)
P_FALLOCATE = Param("fallocate", "1", "threads running kvm_gmem_fallocate()", low=0, high=4)
P_PRESERVERS = Param("preservers", "1", "threads running the preserve walk", low=0, high=2)
P_MIGRATE = Param("migrate", "0", "1: the first reader's srcu_read_unlock() runs on the second "
                  "reader's CPU (--srcu impl; the abstract SRCU has no CPUs)", low=0, high=1)


@dataclass(frozen=True)
class _Ctx:
    values: Mapping[str, Any]
    mutant: str | None
    srcu: SrcuDomain
    thread: str
    folio_id: int  # what this thread's allocations put in the page cache
    # inode -> the window ghosts of its freezers (None: one window per inode, unnamed)
    windows: Mapping[int, tuple[str, ...]] | None = None

    def windows_of(self, n: int) -> tuple[str, ...]:
        return (window_var(n),) if self.windows is None else tuple(self.windows.get(n, ()))

    def own_window(self, n: int) -> str:
        return window_var(n) if self.windows is None else window_var(n, self.thread)


def _cache_write(n: int, k: int, new: Expr, ctx: _Ctx) -> dict[str, Any]:
    """Reads, writes and update of a step that sets a page-cache slot, with the ghosts."""
    c, br = Shared(cache_var(n, k)), Ghost(breach_var(n, k))
    windows = ctx.windows_of(n)
    # Inside any freezer's window of this inode (each freezer relies on its own).
    inside = lor(*(ne(Ghost(w), 0) for w in windows)) if windows else Const(0)
    first_breach = ite(land(inside, ne(new, c)), ctx.folio_id, 0)
    return {
        "reads": [cache_var(n, k), *windows, breach_var(n, k)],
        "writes": [cache_var(n, k), breach_var(n, k)],
        "update": {c: new, br: ite(ne(br, 0), br, first_breach)},
    }


def _frozen(n: int) -> Expr:
    return ne(Shared(flags_var(n)) & GUEST_MEMFD_F_MAPPING_FROZEN, 0)


def _is_frozen(ctx: _Ctx, n: int) -> tuple[str, Expr, str]:
    """What kvm_gmem_is_frozen() reads, its condition, and its C text."""
    if ctx.mutant == "fix-freeze-count":
        return (count_var(n), ne(Shared(count_var(n)), 0),
                "if (atomic_read(&GMEM_I(inode)->freeze_count))  /* fix-freeze-count */")
    return flags_var(n), _frozen(n), IS_FROZEN_CODE


IS_FROZEN_CODE = (
    "if (kvm_gmem_is_frozen(inode))  /* READ_ONCE(GMEM_I(inode)->flags) & "
    "GUEST_MEMFD_F_MAPPING_FROZEN, :1116 */"
)


def emit_get_folio(
    b: OpBuilder, ctx: _Ctx, n: int, k: int, p: str, ret: Local, done: str
) -> str:
    """kvm_gmem_get_folio(inode n, index k); leaves 0 or -EPERM in ``ret``."""
    m = ctx.mutant
    c = Shared(cache_var(n, k))
    folio = b.local(p + "folio", doc="folio found or created (0: none)")
    lock, check, alloc, unlock = (
        p + "srcu_read_lock",
        p + "is_frozen",
        p + "filemap_get_folio",
        p + "srcu_read_unlock",
    )
    slow_entry = check if m == "check-before-lock" else lock
    b.add(
        p + "filemap_lock_folio", f"{GMEM}:107",
        "folio = filemap_lock_folio(inode->i_mapping, index); if (!IS_ERR(folio)) return folio;",
        reads=[cache_var(n, k)],
        update={folio: c, ret: 0},
        next=branch(ne(folio, 0), done, slow_entry),
    )
    ctx.srcu.read_lock(
        b, ctx.thread, lock,
        alloc if m == "check-before-lock" else check,
        f"{GMEM}:111", "idx = srcu_read_lock(&kvm_gmem_freeze_srcu);", idx=p + "idx",
    )
    if m == "check-before-lock":
        eperm = p + "return_eperm"
        b.add(eperm, f"{GMEM}:114", "return ERR_PTR(-EPERM);  /* no SRCU section held */",
              update={ret: -EPERM}, next=done)
        after_check = lock
    else:
        eperm = p + "eperm_unlock"
        ctx.srcu.read_unlock(
            b, ctx.thread, eperm, done, f"{GMEM}:113",
            "srcu_read_unlock(&kvm_gmem_freeze_srcu, idx); return ERR_PTR(-EPERM);",
            update={ret: -EPERM}, idx=p + "idx",
        )
        after_check = unlock if m == "unlock-before-alloc" else alloc
    where, frozen, code = _is_frozen(ctx, n)
    b.add(
        check, f"{GMEM}:112", code,
        reads=[where], order="once",
        next=branch(frozen, eperm, after_check),
    )
    write = _cache_write(n, k, ite(ne(c, 0), c, ctx.folio_id), ctx)
    b.add(
        alloc, f"{GMEM}:118",
        "folio = __filemap_get_folio_mpol(inode->i_mapping, index, FGP_LOCK | FGP_CREAT, ...);",
        reads=write["reads"], writes=write["writes"],
        update={**write["update"], folio: ite(ne(c, 0), c, ctx.folio_id)},
        order="full",  # under the xarray's lock: a locked RMW of the slot
        next=done if m == "unlock-before-alloc" else unlock,
    )
    ctx.srcu.read_unlock(
        b, ctx.thread, unlock,
        alloc if m == "unlock-before-alloc" else done,
        f"{GMEM}:123", "srcu_read_unlock(&kvm_gmem_freeze_srcu, idx);", idx=p + "idx",
    )
    return p + "filemap_lock_folio"


def waited_var(who: str) -> str:
    return f"waited_unrelated.{who}"  # measure_waits


def reader_inodes(values: Mapping[str, Any]) -> dict[str, int]:
    """Each get_folio/fallocate thread and the inode it works on."""
    out = {f"get_folio{j}": values[f"get_folio.{j}.inode"] for j in range(values["get_folio"])}
    out.update({f"fallocate{j}": values[f"fallocate.{j}.inode"]
                for j in range(values["fallocate"])})
    return out


def _unrelated(ctx: _Ctx, n: int) -> tuple[str, list[str]] | None:
    """measure_waits=1: the ghost that counts the read-side sections of other inodes
    this freezer's grace period must wait out, and those readers."""
    if not ctx.values.get("measure_waits"):
        return None
    others = [r for r, m in reader_inodes(ctx.values).items() if m != n]
    return waited_var(ctx.thread), others


def emit_freeze(b: OpBuilder, ctx: _Ctx, n: int, p: str, done: str,
                busy: str | None = None) -> str:
    """kvm_gmem_freeze(inode, true): set the flag, then wait out the readers. With
    fix-ebusy, a freeze of a frozen inode goes to `busy` (default: `done`)."""
    m = ctx.mutant
    flags = b.local(p + "flags", fmt="hex", doc="u64 flags in kvm_gmem_freeze()")
    f = flags_var(n)
    read, write, sync = p + "read_flags", p + "write_flags", p + "synchronize_srcu."
    # freeze() returns here: the window opens
    own = ctx.own_window(n)
    opened: dict[Var, ExprLike] = {Ghost(own): 1}
    last_write_returns = m in ("no-synchronize", "flag-after-synchronize")
    if m in ("fix-freeze-count", "fix-ebusy"):
        if m == "fix-freeze-count":
            b.add(read, f"{GMEM}:1101",
                  "atomic_inc_return(&GMEM_I(inode)->freeze_count);  /* fix-freeze-count */",
                  **access.fetch_add(count_var(n), 1, flags, order="full"), next=sync + "begin")
        else:
            b.add(read, f"{GMEM}:1101", "if (test_and_set_bit(GUEST_MEMFD_F_MAPPING_FROZEN_BIT, "
                  "&GMEM_I(inode)->flags)) return -EBUSY;  /* fix-ebusy */",
                  reads=[f], writes=[f],
                  update={Shared(f): Shared(f) | GUEST_MEMFD_F_MAPPING_FROZEN, flags: Shared(f)},
                  order="full",
                  next=branch(ne(flags & GUEST_MEMFD_F_MAPPING_FROZEN, 0), busy or done,
                              sync + "begin"))
        ctx.srcu.synchronize(b, sync, done, f"{GMEM}:1111",
                             "synchronize_srcu(&kvm_gmem_freeze_srcu);",
                             on_return=opened, on_return_writes=[own])
        return read
    if m in INVALIDATE_NAMES:
        held = m == "invalidate-lock-freeze"
        lock, unlock = p + "invalidate_lock", p + "invalidate_unlock"
        _rwsem(b, n, lock, "down_write", read)
        b.add(read, f"{GMEM}:1101", "u64 flags = READ_ONCE(GMEM_I(inode)->flags); "
              "flags |= GUEST_MEMFD_F_MAPPING_FROZEN;", reads=[f],
              update={flags: Shared(f) | GUEST_MEMFD_F_MAPPING_FROZEN}, next=write,
              order="once")
        b.add(write, f"{GMEM}:1108", "WRITE_ONCE(GMEM_I(inode)->flags, flags);", writes=[f],
              update={Shared(f): flags}, order="once",
              next=sync + "begin" if held else unlock)
        if held:  # freeze() returns after the unlock: the window opens there
            ctx.srcu.synchronize(b, sync, unlock, f"{GMEM}:1111",
                                 "synchronize_srcu(&kvm_gmem_freeze_srcu);")
            fields = access.store(invalidate_var(n), 0, "release")
            b.add(unlock, "include/linux/fs.h", "filemap_invalidate_unlock(inode->i_mapping);",
                  reads=fields.get("reads", []), writes=[*fields["writes"], own],
                  update={**fields["update"], **opened}, order="release", next=done)
        else:
            _rwsem(b, n, unlock, "up_write", sync + "begin")
            ctx.srcu.synchronize(b, sync, done, f"{GMEM}:1111",
                                 "synchronize_srcu(&kvm_gmem_freeze_srcu);",
                                 on_return=opened, on_return_writes=[own])
        return lock
    if m == "fix-mutex":
        b.add(p + "mutex_lock", f"{GMEM}:1101", "mutex_lock(&GMEM_I(inode)->freeze_lock);  "
              "/* fix-mutex */", reads=[lock_var(n)], writes=[lock_var(n)],
              guard=eq(Shared(lock_var(n)), 0), update={Shared(lock_var(n)): 1},
              order="full", waits_for="freeze_lock", next=read)
        write_next = p + "mutex_unlock"
        b.add(write_next, f"{GMEM}:1108", "mutex_unlock(&GMEM_I(inode)->freeze_lock);",
              **access.store(lock_var(n), 0, "release"), next=sync + "begin")
    b.add(
        read, f"{GMEM}:1101",
        "u64 flags = READ_ONCE(GMEM_I(inode)->flags); flags |= GUEST_MEMFD_F_MAPPING_FROZEN;",
        reads=[f], update={flags: Shared(f) | GUEST_MEMFD_F_MAPPING_FROZEN}, next=write,
        order="once",
    )
    b.add(
        write, f"{GMEM}:1108", "WRITE_ONCE(GMEM_I(inode)->flags, flags);",
        writes=[f] + ([own] if last_write_returns else []),
        update={Shared(f): flags, **(opened if last_write_returns else {})}, order="once",
        next=done if last_write_returns else (
            p + "mutex_unlock" if m == "fix-mutex" else sync + "begin"),
    )
    if m != "no-synchronize":
        ctx.srcu.synchronize(
            b, sync, read if m == "flag-after-synchronize" else done,
            f"{GMEM}:1111", "synchronize_srcu(&kvm_gmem_freeze_srcu);",
            on_return=None if last_write_returns else opened,
            on_return_writes=[] if last_write_returns else [own],
            count=_unrelated(ctx, n),
        )
    if m == "fix-mutex":
        return p + "mutex_lock"
    return sync + "begin" if m == "flag-after-synchronize" else read


def emit_unfreeze(b: OpBuilder, ctx: _Ctx, n: int, p: str, done: str) -> str:
    """kvm_gmem_freeze(inode, false): clear the flag (no grace period needed); the
    window this thread's freeze opened closes (another freezer's stays open)."""
    own = ctx.own_window(n)
    flags = b.local(p + "flags", fmt="hex", doc="u64 flags in kvm_gmem_freeze()")
    f = flags_var(n)
    close: dict[Var, ExprLike] = {Ghost(own): 0}  # this unfreeze begins: its window closes
    if ctx.mutant == "fix-freeze-count":
        fields = access.fetch_add(count_var(n), MASK, flags, order="relaxed")  # -1 in u64
        b.add(p + "read_flags", f"{GMEM}:1101",
              "atomic_dec(&GMEM_I(inode)->freeze_count);  /* fix-freeze-count */",
              reads=fields["reads"], writes=[*fields["writes"], own],
              update={**fields["update"], **close}, order="relaxed", next=done)
        return p + "read_flags"
    if ctx.mutant == "fix-ebusy":
        b.add(p + "read_flags", f"{GMEM}:1101", "clear_bit(GUEST_MEMFD_F_MAPPING_FROZEN_BIT, "
              "&GMEM_I(inode)->flags);  /* fix-ebusy */", reads=[f], writes=[f, own],
              update={Shared(f): Shared(f) & ~GUEST_MEMFD_F_MAPPING_FROZEN, **close},
              order="relaxed", next=done)
        return p + "read_flags"
    entry = p + "read_flags"
    write_next = done
    if ctx.mutant == "fix-mutex":
        entry = p + "mutex_lock"
        b.add(entry, f"{GMEM}:1101", "mutex_lock(&GMEM_I(inode)->freeze_lock);  /* fix-mutex */",
              reads=[lock_var(n)], writes=[lock_var(n)], guard=eq(Shared(lock_var(n)), 0),
              update={Shared(lock_var(n)): 1}, order="full", waits_for="freeze_lock",
              next=p + "read_flags")
        write_next = p + "mutex_unlock"
        b.add(write_next, f"{GMEM}:1108", "mutex_unlock(&GMEM_I(inode)->freeze_lock);",
              **access.store(lock_var(n), 0, "release"), next=done)
    b.add(
        p + "read_flags", f"{GMEM}:1101",
        "u64 flags = READ_ONCE(GMEM_I(inode)->flags); flags &= ~GUEST_MEMFD_F_MAPPING_FROZEN;",
        reads=[f], writes=[own],
        update={
            flags: Shared(f) & ~GUEST_MEMFD_F_MAPPING_FROZEN,
            Ghost(own): 0,  # this thread's unfreeze begins: its window closes
        },
        order="once",
        next=p + "write_flags",
    )
    b.add(
        p + "write_flags", f"{GMEM}:1108", "WRITE_ONCE(GMEM_I(inode)->flags, flags);",
        writes=[f], update={Shared(f): flags}, next=write_next, order="once",
    )
    return entry


def op_get_folio(ctx: _Ctx, n: int, k: int) -> Operation:
    b = OpBuilder("get_folio", f"inode {n}, index {k}")
    ret = b.local("ret", fmt="signed", doc="0 or -errno")
    emit_get_folio(b, ctx, n, k, "", ret, DONE)
    return b.build()


PAGE_SHIFT = 12
FALLOCATE_INPUTS = ("mode", "offset", "len")  # what a fallocate may take symbolically


def _pages_in_range(off: Expr, length: Expr, k: int) -> Expr:
    """Whether page k lies in [offset >> PAGE_SHIFT, (offset + len) >> PAGE_SHIFT): the
    pages kvm_gmem_allocate() / kvm_gmem_punch_hole() touch, as an expression so that
    offset and len may be symbolic (u64 arithmetic, as in the model language)."""
    return land(le(off >> PAGE_SHIFT, k), lt(k, (off + length) >> PAGE_SHIFT))


def _input(b: OpBuilder, name: str, value: int | str, key: str, low: int, high: int,
           fmt: str = "dec", doc: str = "") -> Local:
    """A fallocate argument: a concrete value, or (SYMBOLIC) the symbolic input `key`."""
    if value == SYMBOLIC:
        return b.local(name, fmt=fmt, doc=doc, symbolic=key, low=low, high=high)
    assert isinstance(value, int)
    return b.local(name, init=value, fmt=fmt, doc=doc)


def op_fallocate(
    ctx: _Ctx, n: int, mode: str | int, offset: int | str, length: int | str,
    key: str = "fallocate", ranges: Mapping[str, tuple[int, int]] | None = None,
    result_ghost: str = "",
) -> Operation:
    """kvm_gmem_fallocate(mode, offset, len) on inode n.

    `mode` is a name of MODES, a raw mode value, or SYMBOLIC; `offset` and
    `length` are byte counts or SYMBOLIC. Symbolic inputs are named
    `{key}.mode` etc. and range over `ranges` (default: the parameters' ranges).
    The page loop is driven by expressions over the offset and len locals
    (`_pages_in_range`), so it runs the same steps for concrete values and
    covers every page for symbolic ones. With `result_ghost`, the return value
    is also written to that ghost before returning (for the patch-level proofs
    of specs/fallocate_proof.py; the protocol model has no such step).
    """
    m = ctx.mutant
    pages = ctx.values["pages"]
    size = pages * PAGE_SIZE
    bounds = {"mode": (0, MASK), "offset": (0, size), "len": (1, size), **(ranges or {})}
    b = OpBuilder("fallocate", f"inode {n}, mode {mode}, offset {offset}, len {length}")
    modes: tuple[int, ...] = ()
    if mode == SYMBOLIC:
        mode_v = _input(b, "mode", mode, f"{key}.mode", *bounds["mode"], fmt="hex",
                        doc="fallocate mode")
    else:
        modes = MODES[mode] if isinstance(mode, str) else (mode,)
        mode_v = b.local("mode", init=modes[0], fmt="hex", doc="fallocate mode")
    off_v = _input(b, "offset", offset, f"{key}.offset", *bounds["offset"])
    len_v = _input(b, "len", length, f"{key}.len", *bounds["len"])
    ret = b.local("ret", fmt="signed", doc="0 or -errno")
    r = b.local("r", fmt="signed", doc="kvm_gmem_allocate()'s r")
    checked = m != "fallocate-unchecked"
    old = m == "fallocate-unchecked"
    out = "record_result" if result_ghost else DONE
    entry = "srcu_read_lock" if checked else "check_keep_size"
    if len(modes) > 1:
        b.add(
            "choose_mode", "fallocate(2)",
            "mode = FALLOC_FL_KEEP_SIZE or FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE",
            choose=Choice("mode", modes, tuple(MODE_NAMES[x] for x in modes)),
            next=entry,
        )
    if checked:
        ctx.srcu.read_lock(b, ctx.thread, "srcu_read_lock", "is_frozen", f"{GMEM}:291",
                           "idx = srcu_read_lock(&kvm_gmem_freeze_srcu);")
        where, frozen, code = _is_frozen(ctx, n)
        b.add("is_frozen", f"{GMEM}:292", code, reads=[where], order="once",
              next=branch(frozen, "eperm_unlock", "check_keep_size"))
        ctx.srcu.read_unlock(b, ctx.thread, "eperm_unlock", out, f"{GMEM}:293",
                             "srcu_read_unlock(&kvm_gmem_freeze_srcu, idx); return -EPERM;",
                             update={ret: -EPERM})
    no_keep = eq(mode_v & FALLOC_FL_KEEP_SIZE, 0)
    b.add("check_keep_size", f"{GMEM_OLD}:278" if old else f"{GMEM}:297",
          "if (!(mode & FALLOC_FL_KEEP_SIZE)) ret = -EOPNOTSUPP, goto out;",
          update={ret: ite(no_keep, -EOPNOTSUPP, 0)},
          next=branch(no_keep, "out", "check_mode"))
    bad_mode = ne(mode_v & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE), 0)
    b.add("check_mode", f"{GMEM_OLD}:281" if old else f"{GMEM}:302",
          "if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) ret = -EOPNOTSUPP, goto out;",
          update={ret: ite(bad_mode, -EOPNOTSUPP, 0)},
          next=branch(bad_mode, "out", "check_align"))
    misaligned = ne((off_v | len_v) & (PAGE_SIZE - 1), 0)
    b.add("check_align", f"{GMEM_OLD}:284" if old else f"{GMEM}:307",
          "if (!PAGE_ALIGNED(offset) || !PAGE_ALIGNED(len)) ret = -EINVAL, goto out;",
          update={ret: ite(misaligned, -EINVAL, 0)},
          next=branch(misaligned, "out", "dispatch"))

    def first_page(after: int, label: Callable[[int], str]) -> list[tuple[Expr, str]]:
        """Cases jumping to the first page after `after` that the range covers."""
        return [(_pages_in_range(off_v, len_v, k), label(k)) for k in range(after + 1, pages)]

    def punch(k: int) -> str:
        return f"punch_hole.p{k}"

    def alloc(k: int) -> str:
        return f"allocate.p{k}.filemap_lock_folio"

    is_punch = ne(mode_v & FALLOC_FL_PUNCH_HOLE, 0)
    # With the invalidate lock modelled, kvm_gmem_punch_hole() holds it exclusive and
    # kvm_gmem_allocate() shared, around their page loops.
    locked = _models_invalidate_lock(ctx.values, m)
    punch_out, alloc_out = ("punch.unlock", "allocate.unlock") if locked else ("out", "out")
    punch_first = Switch(tuple(first_page(-1, punch)), punch_out)
    alloc_first = Switch(tuple(first_page(-1, alloc)), alloc_out)
    if locked:
        _rwsem(b, n, "punch.lock", "down_write", "punch.first")
        b.add("punch.first", PUNCH, "for each page in the range", next=punch_first)
        _rwsem(b, n, "punch.unlock", "up_write", "out")
        _rwsem(b, n, "allocate.lock", "down_read", "allocate.first")
        b.add("allocate.first", ALLOC, "for each page in the range", next=alloc_first)
        _rwsem(b, n, "allocate.unlock", "up_read", "out")
        dispatch: Switch | str = branch(is_punch, "punch.lock", "allocate.lock")
    else:
        dispatch = Switch(tuple((land(is_punch, c), lbl) for c, lbl in first_page(-1, punch))
                          + tuple((land(lnot(is_punch), c), lbl)
                                  for c, lbl in first_page(-1, alloc)), "out")
    b.add("dispatch", f"{GMEM_OLD}:287" if old else f"{GMEM}:312",
          "if (mode & FALLOC_FL_PUNCH_HOLE) ret = kvm_gmem_punch_hole(...); "
          "else ret = kvm_gmem_allocate(...);",
          next=dispatch)
    for k in range(pages):
        write = _cache_write(n, k, Const(0), ctx)
        b.add(punch(k), f"{PUNCH}",
              f"truncate_inode_pages_range(inode->i_mapping, offset, offset + len - 1);"
              f"  /* removes the folio at index {k} */",
              reads=write["reads"], writes=write["writes"], update=write["update"],
              next=Switch(tuple(first_page(k, punch)), punch_out),
              order="full")  # under the xarray's lock
    for k in range(pages):
        p = f"allocate.p{k}."
        emit_get_folio(b, ctx, n, k, p, r, p + "check")
        b.add(p + "check", ALLOC,
              "folio = kvm_gmem_get_folio(inode, index); "
              "if (IS_ERR(folio)) { r = PTR_ERR(folio); break; }",
              update={ret: r},
              next=Switch(((ne(r, 0), alloc_out), *first_page(k, alloc)), alloc_out))
    if checked:
        ctx.srcu.read_unlock(b, ctx.thread, "out", out, f"{GMEM}:321",
                             "out: srcu_read_unlock(&kvm_gmem_freeze_srcu, idx); return ret;")
    else:
        b.add("out", f"{GMEM_OLD}:291", "return ret;", next=out)
    if result_ghost:
        b.add("record_result", "(proof)", "the value kvm_gmem_fallocate() returns",
              writes=[result_ghost], update={Ghost(result_ghost): ret})
    return b.build("choose_mode" if len(modes) > 1 else entry)


# Preserve's failures (6/9, reconstructed from the series' description: its error
# paths each end in kvm_gmem_freeze(inode, false)). `preserver.J.fault` picks one, or
# `any` lets the explorer try each.
FAULTS = ("none", "checks", "array-enomem", "kho-enomem", "hwpoison")
FAULT_CHOICES = (*FAULTS, "any")
ENOMEM, EHWPOISON = 12, 133
_FAULT_AT = {  # fault -> (the label after which it strikes, errno, C text)
    "checks": ("freeze.", EINVAL, "if (size or flags not preservable) { err = -EINVAL; "
               "goto err_unfreeze; }"),
    "array-enomem": ("count.", ENOMEM, "folios = kvcalloc(nr_folios, ...); "
                     "if (!folios) { err = -ENOMEM; goto err_unfreeze; }"),
    "kho-enomem": ("array.", ENOMEM, "err = kho_alloc_preserve(...); "
                   "if (err) goto err_unfreeze;  /* -ENOMEM */"),
}


def _uses_session(ops: tuple[str, ...] | list[str]) -> bool:
    """A thread that preserves and then makes a framework call on the file (unpreserve,
    or the reboot-time .freeze/.unfreeze): the framework makes it only for a file its
    session holds, so the session's record of the file is modelled."""
    return "preserve" in ops and any(x in ops for x in ("unpreserve", "freeze", "unfreeze"))


def _unpreserves(ctx: _Ctx) -> bool:
    j = ctx.thread.removeprefix("preserver")
    return _uses_session(ctx.values.get(f"preserver.{j}.ops", ()))


def _gate(b: OpBuilder, ctx: _Ctx, then: str) -> str | None:
    """For a framework call on a preserved file: return at once unless the session holds
    the file (its preserve succeeded). None when the thread has no session."""
    if not _unpreserves(ctx):
        return None
    held = b.local("held", doc="the session holds this file")
    b.add("session", "kernel/liveupdate (LUO)", "if (!file preserved in this session) return;",
          **access.load(session_var(ctx.thread), held, "plain"),
          next=branch(eq(held, 0), DONE, then))
    return "session"


def _fault_of(ctx: _Ctx) -> str:
    j = ctx.thread.removeprefix("preserver")
    return str(ctx.values.get(f"preserver.{j}.fault", "none"))


def op_preserve(ctx: _Ctx, n: int) -> Operation:
    """The preserve walk of 6/9: freeze, count folios, record them, compare the counts;
    with a fault (`preserver.J.fault`), one of its error paths, ending in unfreeze."""
    pages = ctx.values["pages"]
    b = OpBuilder("preserve", f"inode {n}")
    ret = b.local("ret", fmt="signed", doc="0 or -errno")
    nr = b.local("nr_folios", doc="first walk's count")
    nr2 = b.local("nr_recorded", doc="second walk's count")
    # Every error path ends in kvm_gmem_freeze(inode, false) (with fix-mutex its lock
    # comes first, so this is the label they go to).
    err_entry = "err.unfreeze." + ("mutex_lock" if ctx.mutant == "fix-mutex" else "read_flags")
    chosen = _fault_of(ctx)
    faults = FAULTS if chosen == "any" else (chosen,)
    fault = b.local("fault", init=FAULTS.index(faults[0]), doc="the failure injected")
    may = set(faults) - {"none"}

    def strikes(name: str, then: str) -> str:
        """A local step: the fault `name` strikes here, or the walk goes on to `then`."""
        if name not in may:
            return then
        at, errno, code = _FAULT_AT[name]
        label = f"fault.{name}"
        b.add(label, LUO, code, update={ret: ite(eq(fault, FAULTS.index(name)), -errno, 0)},
              next=branch(eq(fault, FAULTS.index(name)), err_entry, then))
        return label

    after_freeze = strikes("checks", "count.p0")
    entry = emit_freeze(b, ctx, n, "freeze.", after_freeze, busy="busy")
    if ctx.mutant == "fix-ebusy":
        b.add("busy", LUO, "return -EBUSY;  /* fix-ebusy: not frozen by us, so no unfreeze */",
              update={ret: -EBUSY}, next=DONE)
    if len(faults) > 1:
        b.add("inject", "(fault injection)", "which of preserve's failures happens, if any",
              choose=Choice("fault", tuple(range(len(FAULTS))), FAULTS), next=entry)
        entry = "inject"
    after_count = strikes("kho-enomem", "record.p0")
    after_count = strikes("array-enomem", after_count)
    for k in range(pages):
        c = cache_var(n, k)
        b.add(f"count.p{k}", LUO, f"first walk of the page cache: count the folio at index {k}",
              reads=[c], update={nr: nr + ne(Shared(c), 0)},
              next=f"count.p{k + 1}" if k + 1 < pages else after_count)
    poison = "hwpoison" in may
    for k in range(pages):
        c = cache_var(n, k)
        then = f"record.p{k + 1}" if k + 1 < pages else "compare"
        # A hwpoisoned folio fails the second walk at the first folio it meets.
        nxt = (branch(land(eq(fault, FAULTS.index("hwpoison")), ne(Shared(c), 0)),
                      "fault.hwpoison", then) if poison else then)
        b.add(f"record.p{k}", LUO, f"second walk: record the folio at index {k} for KHO",
              reads=[c], writes=[recorded_var(n, k, ctx.thread)],
              update={Ghost(recorded_var(n, k, ctx.thread)): Shared(c),
                      nr2: nr2 + ne(Shared(c), 0)},
              next=nxt)
    if poison:
        b.add("fault.hwpoison", LUO, "if (PageHWPoison(page)) { err = -EHWPOISON; "
              "goto err_unfreeze; }", update={ret: -EHWPOISON}, next=err_entry)
    emit_unfreeze(b, ctx, n, "err.unfreeze.", DONE)
    # The session's record of the file, for a later unpreserve; only a thread that
    # unpreserves reads it, so only such a thread writes it (a store that no one reads
    # would only add store-buffer interleavings under TSO/PSO).
    session = [session_var(ctx.thread)] if _unpreserves(ctx) else []
    b.add("compare", LUO,
          "if (nr_recorded != nr_folios) { kvm_gmem_freeze(inode, false); return -EINVAL; }",
          writes=[preserved_var(n, ctx.thread), *session],
          update={Ghost(preserved_var(n, ctx.thread)): eq(nr, nr2),
                  **{Shared(x): eq(nr, nr2) for x in session},
                  ret: ite(ne(nr, nr2), -EINVAL, 0)},
          next=branch(ne(nr, nr2), err_entry, DONE))
    return b.build(entry)


def op_unpreserve(ctx: _Ctx, n: int) -> Operation:
    """The session is closed before reboot: the framework unpreserves a file it
    preserved (and only then: a failed preserve left nothing to undo)."""
    b = OpBuilder("unpreserve", f"inode {n}")
    gate = _gate(b, ctx, "discard")
    session = [session_var(ctx.thread)] if gate else []
    b.add("discard", LUO, "unpreserve: drop the preserved folio list",
          writes=[preserved_var(n, ctx.thread), *session],
          update={Ghost(preserved_var(n, ctx.thread)): 0, **{Shared(x): 0 for x in session}},
          next="unfreeze.mutex_lock" if ctx.mutant == "fix-mutex" else "unfreeze.read_flags")
    emit_unfreeze(b, ctx, n, "unfreeze.", DONE)
    return b.build(gate or "discard")


def op_freeze(ctx: _Ctx, n: int) -> Operation:
    b = OpBuilder("freeze", f"inode {n}")
    entry = emit_freeze(b, ctx, n, "", DONE)
    return b.build(_gate(b, ctx, entry) or entry)


def op_unfreeze(ctx: _Ctx, n: int) -> Operation:
    """The framework's .unfreeze (a later file of the session failed at reboot): the
    update is called off for this file, so its preserved record promises nothing."""
    b = OpBuilder("unfreeze", f"inode {n}")
    gate = _gate(b, ctx, "abandon")
    b.add("abandon", "kernel/liveupdate (LUO)", "the live update is called off for this file",
          writes=[preserved_var(n, ctx.thread)],
          update={Ghost(preserved_var(n, ctx.thread)): 0}, next="read_flags"
          if ctx.mutant != "fix-mutex" else "mutex_lock")
    emit_unfreeze(b, ctx, n, "", DONE)
    return b.build(gate or "abandon")


def _symbolic_ranges(values: Mapping[str, Any], j: int) -> dict[str, tuple[int, int]]:
    """Ranges of fallocate j's symbolic offset or len: the other one is concrete, and
    offset + len stays within the inode, as for concrete values."""
    size = values["pages"] * PAGE_SIZE
    off, ln = values[f"fallocate.{j}.offset"], values[f"fallocate.{j}.len"]
    if off == SYMBOLIC and isinstance(ln, int):
        return {"offset": (0, size - ln)}
    if ln == SYMBOLIC and isinstance(off, int):
        return {"len": (1, size - off)}
    return {}


class GuestMemfd(Family):
    name = "guest_memfd"
    description = "guest_memfd freeze/unfreeze under one global SRCU domain (v3 5/9, 6/9)"
    scenarios = SCENARIOS
    mutants = MUTANTS + BARRIER_MUTANTS + FIXES + INVALIDATE_VARIANTS
    srcu_models = ("abstract", "impl")
    source = "the patch"

    def params(self, settings: Mapping[str, str]) -> list[Param]:
        inodes = count(settings, P_INODES)
        pages = count(settings, P_PAGES)
        out = [
            P_INODES, P_PAGES, P_GET_FOLIO, P_FALLOCATE, P_PRESERVERS, P_MIGRATE,
            Param("present", "0", "pages in every inode's page cache at the start",
                  kind="list", choices=tuple(str(k) for k in range(pages))),
            Param("flags", "0", "initial GMEM_I(inode)->flags (creation flags)",
                  low=0, high=(1 << 63) - 1),
            Param("measure_waits", "0", "1: count, in the ghost waited_unrelated.<freezer>, "
                  "the read-side sections of other inodes a freeze's synchronize_srcu() waits "
                  "out (either --srcu)", low=0, high=1),
            Param("invalidate_lock", "0", "1: model filemap_invalidate_lock, the rwsem "
                  "kvm_gmem_allocate() takes shared and kvm_gmem_punch_hole() exclusive",
                  low=0, high=1),
        ]
        for j in range(count(settings, P_GET_FOLIO)):
            out += [
                Param(f"get_folio.{j}.inode", "0", f"inode get_folio{j} faults on",
                      low=0, high=inodes - 1),
                Param(f"get_folio.{j}.page", str(j % pages), f"page index get_folio{j} faults on",
                      low=0, high=pages - 1),
            ]
        for j in range(count(settings, P_FALLOCATE)):
            out += [
                Param(f"fallocate.{j}.inode", "0", f"inode fallocate{j} works on",
                      low=0, high=inodes - 1),
                Param(f"fallocate.{j}.mode", "either", f"fallocate{j}'s mode", kind="choice",
                      choices=tuple(MODES), symbolic=True, numeric=True),
                Param(f"fallocate.{j}.offset", "0", f"fallocate{j}'s offset in bytes",
                      low=0, high=pages * PAGE_SIZE, symbolic=True),
                Param(f"fallocate.{j}.len", str(pages * PAGE_SIZE),
                      f"fallocate{j}'s length in bytes", low=1, high=pages * PAGE_SIZE,
                      symbolic=True),
            ]
        for j in range(count(settings, P_PRESERVERS)):
            out += [
                Param(f"preserver.{j}.inode", "0", f"inode preserver{j} preserves",
                      low=0, high=inodes - 1),
                Param(f"preserver.{j}.ops", "preserve", f"what preserver{j} runs, in order",
                      kind="list", choices=PRESERVER_OPS),
                Param(f"preserver.{j}.fault", "none", f"the failure preserver{j}'s preserve "
                      "injects (6/9 error paths; any: each of them, and none)", kind="choice",
                      choices=FAULT_CHOICES),
            ]
        return out

    def build(self, values: Mapping[str, Any], mutant: str | None, srcu: str) -> Model:
        require_impl(mutant, srcu)
        inodes, pages = values["inodes"], values["pages"]
        plan: list[tuple[str, str, int]] = []  # (thread name, kind, index)
        plan += [(f"preserver{j}", "preserver", j) for j in range(values["preservers"])]
        plan += [(f"get_folio{j}", "get_folio", j) for j in range(values["get_folio"])]
        plan += [(f"fallocate{j}", "fallocate", j) for j in range(values["fallocate"])]
        if not plan:
            raise BadInput("the scenario has no threads")
        for j in range(values["fallocate"]):
            off, ln = values[f"fallocate.{j}.offset"], values[f"fallocate.{j}.len"]
            if off == SYMBOLIC and ln == SYMBOLIC:
                raise BadInput(
                    f"fallocate.{j}.offset and fallocate.{j}.len cannot both be symbolic "
                    "(their sum must stay within the inode); `explorer prove --spec "
                    "fallocate-refactor` proves over both"
                )
            if SYMBOLIC in (off, ln):
                continue
            if off + ln > pages * PAGE_SIZE:
                raise BadInput(
                    f"fallocate.{j}: offset + len = {off + ln} is past the inode's "
                    f"{pages * PAGE_SIZE} bytes"
                )
        readers = [name for name, kind, _ in plan if kind != "preserver"]
        domain = _domain(values, mutant, srcu, readers)
        present = {int(x) for x in values["present"]}
        shared: dict[str, VarDecl] = {}
        ghosts: dict[str, VarDecl] = {}
        for n in range(inodes):
            shared[flags_var(n)] = VarDecl(values["flags"], "hex", "GMEM_I(inode)->flags")
            for k in range(pages):
                shared[cache_var(n, k)] = VarDecl(
                    PREEXISTING + k if k in present else 0, "dec",
                    f"folio at index {k} of inode {n}'s page cache (0: none)",
                )
            for k in range(pages):
                ghosts[breach_var(n, k)] = VarDecl(0, "dec", "number of the first thread "
                                                   "that changed this slot inside the window")
        if mutant == "fix-freeze-count":
            shared.update({count_var(n): VarDecl(0, "dec", "GMEM_I(inode)->freeze_count")
                           for n in range(inodes)})
        if mutant == "fix-mutex":
            shared.update({lock_var(n): VarDecl(0, "dec", "GMEM_I(inode)->freeze_lock")
                           for n in range(inodes)})
        if _models_invalidate_lock(values, mutant):
            shared.update({invalidate_var(n): VarDecl(0, "hex", "inode->i_mapping->"
                                                      "invalidate_lock (writer bit 32, "
                                                      "readers below)")
                           for n in range(inodes)})
        windows: dict[int, tuple[str, ...]] = {}
        for j, who in preservers(values):
            if _uses_session(values[f"preserver.{j}.ops"]):
                shared[session_var(who)] = VarDecl(0, "bool", f"{who}'s live-update session "
                                                   "holds its file (preserved)")
            if values["measure_waits"]:
                ghosts[waited_var(who)] = VarDecl(0, "dec", "read-side sections of other "
                                                  "inodes its last grace period waited out")
            n = values[f"preserver.{j}.inode"]
            windows[n] = (*windows.get(n, ()), window_var(n, who))
            ghosts[window_var(n, who)] = VarDecl(0, "bool", f"{who}'s freeze() on inode {n} "
                                                 "returned, and its own unfreeze has not begun")
            ghosts[preserved_var(n, who)] = VarDecl(0, "bool", f"{who}'s preserve walk "
                                                    "succeeded (and was not unpreserved)")
            for k in range(pages):
                ghosts[recorded_var(n, k, who)] = VarDecl(0, "dec", f"folio {who}'s walk "
                                                          "recorded")
        shared.update(domain.shared())
        ghosts.update(domain.ghosts())
        threads = []
        for tid, (name, kind, j) in enumerate(plan):
            ctx = _Ctx(values, mutant, domain, name, tid + 1, windows)
            ops: list[Operation]
            if kind == "get_folio":
                ops = [op_get_folio(ctx, values[f"get_folio.{j}.inode"],
                                    values[f"get_folio.{j}.page"])]
            elif kind == "fallocate":
                ops = [op_fallocate(ctx, values[f"fallocate.{j}.inode"],
                                    values[f"fallocate.{j}.mode"],
                                    values[f"fallocate.{j}.offset"],
                                    values[f"fallocate.{j}.len"], key=f"fallocate.{j}",
                                    ranges=_symbolic_ranges(values, j))]
            else:
                n = values[f"preserver.{j}.inode"]
                builders = {"preserve": op_preserve, "unpreserve": op_unpreserve,
                            "freeze": op_freeze, "unfreeze": op_unfreeze}
                names = values[f"preserver.{j}.ops"]
                if not names:
                    raise BadInput(f"preserver.{j}.ops: give at least one operation")
                ops = [builders[x](ctx, n) for x in names]
            threads.append(Thread(name, tuple(ops)))
        return Model("guest_memfd", shared, ghosts, tuple(threads),
                     description=self.description)


def preservers(values: Mapping[str, Any]) -> list[tuple[int, str]]:
    """(index, thread name) of every preserver thread."""
    return [(j, f"preserver{j}") for j in range(values["preservers"])]


def _domain(
    values: Mapping[str, Any], mutant: str | None, srcu: str, readers: list[str]
) -> SrcuDomain:
    """kvm_gmem_freeze_srcu: the abstract SRCU, or srcutree.c's algorithm (``impl``)."""
    if srcu != "impl":
        return AbstractSrcu("srcu", readers)
    if values["migrate"] and len(readers) < 2:
        raise BadInput("migrate=1 needs at least 2 get_folio/fallocate threads")
    return ImplSrcu(
        "srcu", readers, removed_by(mutant),
        mutex=values["preservers"] > 1,  # concurrent synchronize_srcu() callers
        measured=bool(values["measure_waits"]),
        migrate={readers[0]: readers[1]} if values["migrate"] else None,
    )
