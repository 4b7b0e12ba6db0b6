"""SRCU as Linux builds it (Tree SRCU's counters), in model-language steps.

Kernel: ``kernel/rcu/srcutree.c`` of Linux 6.1.176 (Debian's linux-source-6.1
6.1.176-1); every step's ``line`` is a line of that file. The algorithm:

- ``srcu_read_lock()`` (__srcu_read_lock, :634): ``idx = READ_ONCE(ssp->srcu_idx)
  & 1``; ``this_cpu_inc(srcu_lock_count[idx])``; ``smp_mb()`` /* B */.
- ``srcu_read_unlock()`` (__srcu_read_unlock, :650): ``smp_mb()`` /* C */;
  ``this_cpu_inc(srcu_unlock_count[idx])``, on the CPU the task runs on then,
  which need not be the one it locked on (a migrated reader).
- ``synchronize_srcu()`` (the grace period srcu_advance_state() drives, :1494):
  ``smp_mb()`` (srcu_gp_start, :679); scan the inactive index
  (srcu_readers_active_idx_check, :446: sum the unlock counters, ``smp_mb()``
  /* A */, sum the lock counters; retry until equal); srcu_flip (:984:
  ``smp_mb()`` /* E */, ``srcu_idx++``, ``smp_mb()`` /* D */); scan the other
  index the same way; ``smp_mb()`` after the wait (__synchronize_srcu, :1253).
  With ``mutex`` the grace period runs under ``srcu_gp_mutex`` (:1498, :771),
  which serialises concurrent synchronize_srcu() callers.

Shared state: ``NAME.idx`` (srcu_idx), and per index i and CPU c
``NAME.lock<i>.<c>`` / ``NAME.unlock<i>.<c>`` (srcu_data's counters). Each
reader thread is a CPU of its own (its name); ``migrate`` moves a reader's
srcu_read_unlock() to another reader's CPU, whose counter it then increments.

What is left out: the callback machinery, srcu_gp_seq and the workqueue (the
grace period runs in the caller's thread, as if synchronize_srcu() drove it
itself), expedited grace periods, and counter wrap (counters are unbounded).
Concurrent synchronize_srcu() calls each run a full grace period of their own
under the mutex, rather than sharing one: each still waits for at least the
grace period the kernel would give it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from explorer.lang.access import fence, inc, load, store
from explorer.lang.builder import OpBuilder, merge
from explorer.lang.expr import Expr, ExprLike, Ghost, Local, Shared, Var, eq, lift
from explorer.lang.family import BadInput, Mutant
from explorer.lang.model import Next, VarDecl, branch

from .srcu import SrcuDomain

SRCUTREE = "kernel/rcu/srcutree.c"


def at(line: int) -> str:
    return f"{SRCUTREE}:{line}"


# Barriers and variants a mutant can remove; each is a real change of the steps.
NO_MB_IN_READ_LOCK = "no-mb-in-read-lock"
NO_MB_BEFORE_SCAN = "no-mb-before-scan"
NO_MB_IN_SCAN = "no-mb-in-scan"
SINGLE_SCAN = "single-scan"
LOCKS_BEFORE_UNLOCKS = "locks-before-unlocks"
CHANGES = {
    NO_MB_IN_READ_LOCK: "srcu_read_lock() without smp_mb() B after the counter increment",
    NO_MB_BEFORE_SCAN: "synchronize_srcu() without the smp_mb() before the first scan",
    NO_MB_IN_SCAN: "the scan without smp_mb() A between the unlock sum and the lock sum",
    SINGLE_SCAN: "synchronize_srcu() scans the inactive index once: no flip, no second scan",
    LOCKS_BEFORE_UNLOCKS: "the scan sums the lock counters before the unlock counters",
}
# Pairs where each barrier alone is masked by the other: before the first
# scan's lock sum, either smp_mb() orders the caller's earlier stores (the
# FROZEN flag) before the loads of the lock counters.
COMBINATIONS = ((NO_MB_BEFORE_SCAN, NO_MB_IN_SCAN),)

BARRIER_MUTANTS: tuple[Mutant, ...] = tuple(
    Mutant(name, doc + " (needs --srcu impl)") for name, doc in CHANGES.items()
) + tuple(
    Mutant("+".join(pair), "; ".join(CHANGES[x] for x in pair) + " (needs --srcu impl)")
    for pair in COMBINATIONS
)
BARRIER_MUTANT_NAMES = frozenset(m.name for m in BARRIER_MUTANTS)


def removed_by(mutant: str | None) -> frozenset[str]:
    """The changes a barrier mutant makes (none for other mutants)."""
    if mutant is None or mutant not in BARRIER_MUTANT_NAMES:
        return frozenset()
    return frozenset(mutant.split("+"))


def require_impl(mutant: str | None, srcu: str) -> None:
    """A barrier mutant changes srcutree.c's steps: the abstract SRCU has none."""
    if mutant in BARRIER_MUTANT_NAMES and srcu != "impl":
        raise BadInput(f"mutant {mutant!r} changes SRCU's barriers: it needs --srcu impl")


class ImplSrcu(SrcuDomain):
    """One ``struct srcu_struct`` used by the given reader threads, as srcutree.c does it.

    ``removed``: changes from CHANGES (a barrier mutant); ``mutex``: take
    srcu_gp_mutex (needed when several threads may call synchronize_srcu() at
    once); ``migrate``: reader -> the CPU (another reader) its unlocks run on.
    """

    def __init__(
        self,
        name: str,
        readers: Sequence[str],
        removed: Collection[str] = (),
        mutex: bool = False,
        migrate: Mapping[str, str] | None = None,
        measured: bool = False,
    ):
        unknown = set(removed) - set(CHANGES)
        if unknown:
            raise ValueError(f"unknown SRCU change {sorted(unknown)[0]!r}")
        super().__init__(name, readers)
        self.cpus = list(readers)  # one CPU per reader thread, named after it
        self.removed = frozenset(removed)
        self.mutex = mutex
        self.migrate = dict(migrate or {})
        # synchronize(count=...) needs to know which readers are inside: a ghost
        # per reader, kept only when asked for (it is instrumentation, not srcutree.c).
        self.measured = measured
        for r, cpu in self.migrate.items():
            if r not in self.readers or cpu not in self.cpus:
                raise ValueError(f"cannot migrate {r}'s unlock to CPU {cpu!r}")

    # -- names ------------------------------------------------------------------

    @property
    def idx_var(self) -> str:
        return f"{self.name}.idx"

    @property
    def mutex_var(self) -> str:
        return f"{self.name}.gp_mutex"

    def lock_var(self, i: int, cpu: str) -> str:
        return f"{self.name}.lock{i}.{cpu}"

    def unlock_var(self, i: int, cpu: str) -> str:
        return f"{self.name}.unlock{i}.{cpu}"

    def shared(self) -> dict[str, VarDecl]:
        out = {self.idx_var: VarDecl(doc="ssp->srcu_idx: readers use index srcu_idx & 1")}
        for i in (0, 1):
            for c in self.cpus:
                out[self.lock_var(i, c)] = VarDecl(doc=f"{c}'s srcu_lock_count[{i}]")
                out[self.unlock_var(i, c)] = VarDecl(doc=f"{c}'s srcu_unlock_count[{i}]")
        if self.mutex:
            out[self.mutex_var] = VarDecl(fmt="bool", doc="ssp->srcu_gp_mutex is held")
        return out

    def inside_var(self, reader: str) -> str:
        return f"{self.name}.inside.{reader}"

    def ghosts(self) -> dict[str, VarDecl]:
        if not self.measured:
            return {}
        return {self.inside_var(r): VarDecl(0, "bool", f"{r} has counted its srcu_read_lock() "
                                            "and not yet its srcu_read_unlock()")
                for r in self.readers}

    def _inside(self, reader: str, value: int) -> dict[Var, ExprLike] | None:
        """The measured ghost's write, in the step that counts the lock or unlock."""
        return {Ghost(self.inside_var(reader)): value} if self.measured else None

    # -- read side ------------------------------------------------------------------

    def read_lock(
        self,
        b: OpBuilder,
        reader: str,
        label: str,
        next: Next,
        line: str,
        code: str,
        update: Mapping[Var, ExprLike] | None = None,
        idx: str = "idx",
    ) -> str:
        """__srcu_read_lock(): load srcu_idx, count the lock on this CPU, smp_mb() B.

        ``line``/``code`` (the caller's srcu_read_lock() call) go into the C text;
        each step's line is srcutree.c's.
        """
        self._check_reader(reader)
        x = b.local(idx, doc="srcu_read_lock()'s return value (the index it counted on)")
        mb = f"{label}.smp_mb_B"
        keep_b = NO_MB_IN_READ_LOCK not in self.removed
        b.add(
            label, at(638), f"idx = READ_ONCE(ssp->srcu_idx) & 0x1;  /* {code} ({line}) */",
            reads=[self.idx_var], update={x: Shared(self.idx_var) & 1}, order="once",
            next=branch(eq(x, 0), f"{label}.inc0", f"{label}.inc1"),
            tags=(f"srcu.lock:{self.name}",),
        )
        for i in (0, 1):
            b.add(
                f"{label}.inc{i}", at(639), f"this_cpu_inc(ssp->sda->srcu_lock_count[{i}]);",
                **_inc(self.lock_var(i, reader), None if keep_b else update,
                       self._inside(reader, 1)),
                next=mb if keep_b else next,
            )
        if keep_b:
            b.add(mb, at(640), "smp_mb(); /* B */  /* Avoid leaking the critical section. */",
                  **fence("mb"), update=merge(update), next=next)
        return label

    def read_unlock(
        self,
        b: OpBuilder,
        reader: str,
        label: str,
        next: Next,
        line: str,
        code: str,
        update: Mapping[Var, ExprLike] | None = None,
        idx: str = "idx",
    ) -> str:
        """__srcu_read_unlock(): smp_mb() C, count the unlock on the CPU it runs on."""
        self._check_reader(reader)
        x = b.local(idx, doc="srcu_read_lock()'s return value (the index it counted on)")
        cpu = self.migrate.get(reader, reader)
        moved = cpu != reader
        where = f"  /* on {cpu}'s CPU: the task migrated */" if moved else ""
        b.add(
            label, at(652),
            f"smp_mb(); /* C */  /* Avoid leaking the critical section. */  /* {code} "
            f"({line}) */{where}",
            **fence("mb"), next=branch(eq(x, 0), f"{label}.inc0", f"{label}.inc1"),
            cpu=cpu if moved else "",
        )
        for i in (0, 1):
            b.add(
                f"{label}.inc{i}", at(653),
                f"this_cpu_inc(ssp->sda->srcu_unlock_count[{i}]);{where}",
                **_inc(self.unlock_var(i, cpu), update, self._inside(reader, 0)),
                next=next,
                tags=(f"srcu.unlock:{self.name}",),
                cpu=cpu if moved else "",
            )
        return label

    # -- update side -----------------------------------------------------------------

    def synchronize(
        self,
        b: OpBuilder,
        prefix: str,
        next: Next,
        line: str,
        code: str,
        on_return: Mapping[Var, ExprLike] | None = None,
        on_return_reads: Sequence[str] = (),
        on_return_writes: Sequence[str] = (),
        count: tuple[str, Sequence[str]] | None = None,
    ) -> str:
        """Emits one grace period under ``prefix`` and returns its entry label.
        With ``count`` = (ghost, readers), the first step writes into the ghost how
        many of those readers are inside a read-side section (``measured`` only).

        ``on_return`` happens in the final step (the smp_mb() after the wait).
        """
        p = prefix
        counted: dict[str, Any] = {"reads": [], "writes": [], "update": None}
        if count is not None:
            # The grace period's first step counts the sections it must wait out: those
            # of ``which`` whose lock is counted and unlock not yet (SRCU's contract;
            # srcutree.c may wait for more, a section begun on the old index before
            # the flip, but each reader here has one section at a time).
            if not self.measured:
                raise BadInput("synchronize(count=...): build ImplSrcu(measured=True)")
            ghost, which = count
            total: ExprLike = 0
            for r in which:
                total = lift(total) + Ghost(self.inside_var(r))
            counted = {"reads": [self.inside_var(r) for r in which], "writes": [ghost],
                       "update": {Ghost(ghost): total}}
        call = f"  /* {code} ({line}) */"
        ret = f"{p}return"
        flip = f"{p}srcu_flip.smp_mb_E"
        scan2 = f"{p}scan2.idx"
        single = SINGLE_SCAN in self.removed
        after = f"{p}mutex_unlock" if self.mutex else ret
        # The grace period begins with its first step, labelled "begin" as the
        # abstract SRCU's (callers jump there): the mutex, else the smp_mb(),
        # else (no-mb-before-scan) the first scan's load of srcu_idx.
        steps = [name for name, keep in (
            ("mutex_lock", self.mutex),
            ("srcu_gp_start.smp_mb", NO_MB_BEFORE_SCAN not in self.removed),
            ("scan1.idx", True),
        ) if keep]
        label = {name: p + ("begin" if k == 0 else name) for k, name in enumerate(steps)}
        tags = {name: (f"srcu.sync.begin:{self.name}",) if k == 0 else ()
                for k, name in enumerate(steps)}
        texts = {name: call if k == 0 else "" for k, name in enumerate(steps)}
        follow = dict(zip(steps, steps[1:], strict=False))
        if self.mutex:
            m = self.mutex_var
            b.add(
                label["mutex_lock"], at(1498),
                "mutex_lock(&ssp->srcu_gp_mutex);" + texts["mutex_lock"],
                reads=[m, *counted["reads"]], writes=[m, *counted["writes"]],
                guard=eq(Shared(m), 0), update=merge({Shared(m): 1}, counted["update"]),
                # An acquire: LKMM orders no earlier store before it (x86's
                # locked cmpxchg does: "relaxed" is a locked RMW under TSO).
                order="relaxed", next=label[follow["mutex_lock"]],
                waits_for="mutex_lock(&ssp->srcu_gp_mutex): another grace period is running",
                tags=tags["mutex_lock"],
            )
        if "srcu_gp_start.smp_mb" in label:
            name = "srcu_gp_start.smp_mb"
            b.add(
                label[name], at(679),
                "smp_mb(); /* Order prior store to ->srcu_gp_seq_needed vs. GP start. */"
                + texts[name],
                **fence("mb"), next=label["scan1.idx"], tags=tags[name],
                **({} if self.mutex else counted),
            )
        self._scan(b, label["scan1.idx"], p + "scan1.", p, 1530, 1533, texts["scan1.idx"],
                   after if single else flip, tags["scan1.idx"],
                   counted if steps[0] == "scan1.idx" else None)
        if not single:
            b.add(flip, at(994), "smp_mb(); /* E */  /* Pairs with B and C. */",
                  **fence("mb"), next=f"{p}srcu_flip.write")
            b.add(
                f"{p}srcu_flip.write", at(996), "WRITE_ONCE(ssp->srcu_idx, ssp->srcu_idx + 1);",
                reads=[self.idx_var], writes=[self.idx_var],
                update={Shared(self.idx_var): Shared(self.idx_var) + 1},
                order="once", next=f"{p}srcu_flip.smp_mb_D",
            )
            b.add(f"{p}srcu_flip.smp_mb_D", at(1005), "smp_mb(); /* D */  /* Pairs with C. */",
                  **fence("mb"), next=scan2)
            self._scan(b, scan2, p + "scan2.", p, 1548, 1551, "", after, ())
        if self.mutex:
            b.add(
                f"{p}mutex_unlock", at(771), "mutex_unlock(&ssp->srcu_gp_mutex);  "
                "/* srcu_gp_end() */",
                **store(self.mutex_var, 0, order="release"), next=ret,
            )
        b.add(
            ret, at(1253),
            "smp_mb();  /* after wait_for_completion(): later code is ordered after the "
            "grace period */" + call,
            **fence("mb"), reads=list(on_return_reads), writes=list(on_return_writes),
            update=merge(on_return), next=next,
            tags=(f"srcu.sync.return:{self.name}",),
        )
        return label[steps[0]]

    def _scan(
        self, b: OpBuilder, entry: str, p: str, sync: str, idx_line: int, retry_line: int,
        call: str, done: str, tags: tuple[str, ...], counted: dict[str, Any] | None = None,
    ) -> None:
        """``idx = 1 ^ (ssp->srcu_idx & 1)``, then try_check_zero(ssp, idx) for that index
        (``counted``: the grace period's measurement, when this is its first step)."""
        which = b.local(p + "index", doc="the index this scan waits to drain")
        entries = [self._check_index(b, f"{p}i{i}.", sync, i, retry_line, done) for i in (0, 1)]
        extra = counted or {"reads": [], "writes": [], "update": None}
        b.add(
            entry, at(idx_line), "idx = 1 ^ (ssp->srcu_idx & 1);" + call,
            reads=[self.idx_var, *extra["reads"]], writes=list(extra["writes"]),
            update=merge({which: (Shared(self.idx_var) & 1) ^ 1}, extra["update"]),
            next=branch(eq(which, 0), entries[0], entries[1]), tags=tags,
        )

    def _check_index(
        self, b: OpBuilder, p: str, sync: str, i: int, retry_line: int, done: str
    ) -> str:
        """srcu_readers_active_idx_check(ssp, i) (:446), retried until it succeeds;
        returns its first label.

        The retry is never run (``retry=True``, see Program.cut_off and
        explorer/lang/retry.py): a run whose scan failed ends there, cut off when a
        rescan in the state it ended in would succeed (the run where the scan
        comes at that point instead is explored on its own) and a deadlock when
        it would fail again. The scan only reads and starts afresh each time
        (checked when the model is loaded), so deleting a failed scan from a
        run of the real loop leaves a run of this one: nothing is lost, for any
        order of the sums.
        """
        unl = [(self.unlock_var(i, c), b.local(f"{sync}unlocks.{c}",
                                               doc="srcu_unlock_count the scan read"))
               for c in self.cpus]
        lck = [(self.lock_var(i, c), b.local(f"{sync}locks.{c}",
                                             doc="srcu_lock_count the scan read"))
               for c in self.cpus]

        Read = tuple[str, int, str, str, Local | None]  # label, line, C text, location, into

        def reads(kind: str, pairs: list[tuple[str, Local]]) -> list[Read]:
            line, field = (
                (438, "srcu_unlock_count") if kind == "unlocks" else (421, "srcu_lock_count")
            )
            return [(f"{p}{kind}.{c}", line, f"sum += READ_ONCE(cpuc->{field}[{i}]);  /* {c} */",
                     var, local) for (var, local), c in zip(pairs, self.cpus, strict=True)]

        first, second = reads("unlocks", unl), reads("locks", lck)
        if LOCKS_BEFORE_UNLOCKS in self.removed:
            first, second = reads("locks", lck), reads("unlocks", unl)
        mb_a: list[Read] = [(f"{p}smp_mb_A", 463, "smp_mb(); /* A */", "", None)]
        chain = first + ([] if NO_MB_IN_SCAN in self.removed else mb_a) + second
        equal = eq(_sum([x for _, x in unl]), _sum([x for _, x in lck]))
        retry = f"{p}retry"
        for k, (label, line, text, var, local) in enumerate(chain):
            if k + 1 < len(chain):
                nxt: Next = chain[k + 1][0]
            else:
                nxt = branch(equal, done, retry)
                text += "  /* return srcu_readers_lock_idx(ssp, idx) == unlocks; (:486) */"
            if local is None:
                b.add(label, at(line), text, **fence("mb"), next=nxt)
            else:
                b.add(label, at(line), text, **load(var, local), next=nxt)
        b.add(
            retry, at(retry_line),
            "if (!try_check_zero(ssp, idx, ...)) return; /* readers present, retry later. */",
            next=chain[0][0], retry=True,
            waits_for=f"synchronize_srcu(): readers still counted on index {i} "
            "(srcu_lock_count != srcu_unlock_count) and no counter changes",
            tags=(f"srcu.sync.wait:{self.name}",),
        )
        return chain[0][0]


def _inc(x: str, update: Mapping[Var, ExprLike] | None,
         ghost: Mapping[Var, ExprLike] | None = None) -> dict[str, Any]:
    """this_cpu_inc(x) (a plain RMW: atomic against its own CPU only), plus ``update``
    (and a ghost's write)."""
    fields = inc(x, order="plain")
    fields["update"] = merge(fields["update"], update, ghost)
    if ghost:
        fields["writes"] = [*fields["writes"], *(g.name for g in ghost)]
    return fields


def _sum(xs: list[Local]) -> Expr:
    out: Expr = xs[0]
    for x in xs[1:]:
        out = out + x
    return out
