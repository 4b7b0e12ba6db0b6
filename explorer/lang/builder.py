"""A small helper for writing operations step by step, close to the C they model."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .expr import MASK, TRUE, Expr, ExprLike, Local, Var, lift
from .model import DONE, Choice, Next, Operation, Step, VarDecl


class OpBuilder:
    """Collects the steps and locals of one operation.

    Sub-routines (a freeze inside a preserve, a get_folio inside fallocate) are
    emitted into the same builder under a label prefix, as the C compiler
    would inline them; each step keeps the source line of the callee.
    """

    def __init__(self, name: str, args: str = ""):
        self.name = name
        self.args = args
        self.steps: list[Step] = []
        self.locals: dict[str, VarDecl] = {}

    def local(self, name: str, init: int = 0, fmt: str = "dec", doc: str = "",
              symbolic: str = "", low: int = 0, high: int = MASK) -> Local:
        """A local; with `symbolic`, its initial value is that symbolic input (explorer/smt)."""
        decl = VarDecl(init, fmt, doc, symbolic, low, high) if symbolic else VarDecl(init, fmt, doc)
        if self.locals.setdefault(name, decl) != decl:
            raise ValueError(f"local {name!r} declared twice with different settings")
        return Local(name)

    def add(
        self,
        label: str,
        line: str,
        code: str,
        *,
        reads: Iterable[str] = (),
        writes: Iterable[str] = (),
        guard: ExprLike = TRUE,
        update: Mapping[Var, ExprLike] | None = None,
        next: Next = DONE,
        choose: Choice | None = None,
        atomic: bool = False,
        waits_for: str = "",
        tags: tuple[str, ...] = (),
        order: str = "plain",
        fence: str = "",
        cpu: str = "",
        retry: bool = False,
    ) -> str:
        self.steps.append(
            Step(
                label=label,
                line=line,
                code=code,
                reads=tuple(dict.fromkeys(reads)),
                writes=tuple(dict.fromkeys(writes)),
                guard=lift(guard),
                update=tuple((v, lift(e)) for v, e in (update or {}).items()),
                next=next,
                choose=choose,
                atomic=atomic,
                waits_for=waits_for,
                tags=tags,
                order=order,
                fence=fence,
                cpu=cpu,
                retry=retry,
            )
        )
        return label

    def build(self, entry: str | None = None) -> Operation:
        if not self.steps:
            raise ValueError(f"operation {self.name} has no steps")
        return Operation(
            name=self.name,
            args=self.args,
            entry=entry or self.steps[0].label,
            steps=tuple(self.steps),
            locals=dict(self.locals),
        )


def merge(*updates: Mapping[Var, ExprLike] | None) -> dict[Var, Expr]:
    """Combine update maps (a helper's own assignments plus the caller's extras)."""
    out: dict[Var, Expr] = {}
    for u in updates:
        for k, v in (u or {}).items():
            if k in out:
                raise ValueError(f"{k.name} assigned twice in one step")
            out[k] = lift(v)
    return out
