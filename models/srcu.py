"""SRCU as model-language steps: the abstract grace-period semantics.

State per reader thread T: ``srcu.nest.T`` (read-side nesting depth) and
``srcu.gen.T`` (how many outermost critical sections T has left).
``synchronize_srcu()`` is two steps: *begin* notes, for every reader inside a
critical section, the generation it must reach; *wait* is disabled until
every such reader has left that section. Readers that enter after *begin*
are not waited for, exactly the guarantee SRCU gives and no more.

Every primitive is fully ordered (``order="full"``, the return an smp_mb()):
this is SRCU as its users may assume it, not as srcutree.c builds it (that is
models/srcu_impl.py).

Footprints: a reader's lock/unlock touch only that reader's variables, so two
readers never conflict; synchronize's begin and wait read every reader's
variables, so each conflicts with every lock/unlock.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence

from explorer.lang.builder import OpBuilder, merge
from explorer.lang.expr import ExprLike, Ghost, Local, Shared, Var, ge, ite, lift, ne
from explorer.lang.model import Next, Switch, VarDecl

SRCUTREE = "kernel/rcu/srcutree.c"


class SrcuDomain(ABC):
    """One SRCU domain (one ``struct srcu_struct``) shared by the given reader
    threads, as steps a model emits into an OpBuilder: what a model calls, the
    same for every SRCU model (``--srcu``)."""

    def __init__(self, name: str, readers: Sequence[str]):
        self.name = name
        self.readers = list(readers)

    def _check_reader(self, reader: str) -> None:
        if reader not in self.readers:
            raise ValueError(f"{reader} is not declared as a reader of {self.name}")

    @abstractmethod
    def shared(self) -> dict[str, VarDecl]:
        """The domain's shared variables."""

    def ghosts(self) -> dict[str, VarDecl]:
        """The domain's ghost variables (instrumentation), if it keeps any."""
        return {}

    @abstractmethod
    def read_lock(self, b: OpBuilder, reader: str, label: str, next: Next, line: str,
                  code: str, update: Mapping[Var, ExprLike] | None = None,
                  idx: str = "idx") -> str:
        """srcu_read_lock() at ``label``, then ``next``; ``idx`` names the local
        holding its return value; ``update`` runs in its last step."""

    @abstractmethod
    def read_unlock(self, b: OpBuilder, reader: str, label: str, next: Next, line: str,
                    code: str, update: Mapping[Var, ExprLike] | None = None,
                    idx: str = "idx") -> str:
        """srcu_read_unlock() of the section ``idx`` names."""

    @abstractmethod
    def synchronize(self, b: OpBuilder, prefix: str, next: Next, line: str, code: str,
                    on_return: Mapping[Var, ExprLike] | None = None,
                    on_return_reads: Sequence[str] = (),
                    on_return_writes: Sequence[str] = (),
                    count: tuple[str, Sequence[str]] | None = None) -> str:
        """synchronize_srcu() as steps labelled ``prefix...``; ``on_return`` runs
        in the step that returns. Returns the entry label."""


class AbstractSrcu(SrcuDomain):
    """SRCU's guarantee, without its algorithm (see the module docstring)."""

    def nest(self, reader: str) -> str:
        return f"{self.name}.nest.{reader}"

    def gen(self, reader: str) -> str:
        return f"{self.name}.gen.{reader}"

    def shared(self) -> dict[str, VarDecl]:
        out: dict[str, VarDecl] = {}
        for r in self.readers:
            out[self.nest(r)] = VarDecl(doc=f"{r}'s read-side nesting depth")
            out[self.gen(r)] = VarDecl(doc=f"outermost read-side sections {r} has left")
        return out

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
        """srcu_read_lock(); ``idx`` names the local that holds its return value
        (the abstract SRCU needs none; the implementation does)."""
        self._check_reader(reader)
        n = self.nest(reader)
        return b.add(
            label, line, code,
            reads=[n], writes=[n],
            update=merge({Shared(n): Shared(n) + 1}, update),
            next=next,
            tags=(f"srcu.lock:{self.name}",),
            order="full",
        )

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
        self._check_reader(reader)
        n, g = self.nest(reader), self.gen(reader)
        inner = ne(Shared(n), 1)  # still nested after this unlock
        return b.add(
            label, line, code,
            reads=[n, g], writes=[n, g],
            update=merge(
                {
                    Shared(n): Shared(n) - 1,
                    Shared(g): ite(inner, Shared(g), Shared(g) + 1),
                },
                update,
            ),
            next=next,
            atomic=True,  # nest and gen of one reader move together
            tags=(f"srcu.unlock:{self.name}",),
            order="full",
        )

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
        """Emits begin, one wait per reader that was inside, and the return.

        The wait for reader r is skipped (a branch, not an event) when r was
        outside any read-side section at *begin*: a reader that enters later
        is not waited for, and its steps then do not conflict with the wait.
        ``on_return`` runs in the step that returns. With ``count`` = (ghost,
        readers), *begin* also writes into the ghost how many of those readers it
        must wait for (a measurement: explorer/tools/findings.py).
        """
        snap: dict[str, Local] = {
            r: b.local(f"{prefix}wait.{r}", doc=f"generation of {r} to wait for (0: none)")
            for r in self.readers
        }
        begin, ret = f"{prefix}begin", f"{prefix}return"

        def after(i: int) -> Switch:
            """Go to the first wait from reader i on that is needed, else return."""
            rest = self.readers[i:]
            return Switch(tuple((ne(snap[r], 0), f"{prefix}wait.{r}") for r in rest), ret)

        update: dict[Var, ExprLike] = {
            snap[r]: ite(ne(Shared(self.nest(r)), 0), Shared(self.gen(r)) + 1, 0)
            for r in self.readers
        }
        counted: list[str] = []
        if count is not None:
            ghost, which = count
            total: ExprLike = 0
            for r in which:
                total = lift(total) + ite(ne(Shared(self.nest(r)), 0), 1, 0)
            update[Ghost(ghost)] = total
            counted = [ghost]
        b.add(
            begin, line, code + "  /* grace period begins */",
            reads=[x for r in self.readers for x in (self.nest(r), self.gen(r))],
            writes=counted,
            update=update,
            next=after(0),
            atomic=True,
            tags=(f"srcu.sync.begin:{self.name}",),
            order="full",
        )
        for i, r in enumerate(self.readers):
            b.add(
                f"{prefix}wait.{r}", line, code + f"  /* waits for {r} */",
                reads=[self.gen(r)],
                guard=ge(Shared(self.gen(r)), snap[r]),
                update={snap[r]: 0},
                next=after(i + 1),
                waits_for=f"synchronize_srcu(): {r} has not left the read-side critical "
                "section it was in when the grace period began",
                tags=(f"srcu.sync.wait:{self.name}",),
                order="full",
            )
        b.add(
            ret, line, code + "  /* returns */",
            reads=list(on_return_reads), writes=list(on_return_writes),
            update=on_return, next=next,
            tags=(f"srcu.sync.return:{self.name}",),
            fence="mb",
        )
        return begin
