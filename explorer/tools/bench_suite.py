"""What `explorer bench` measures: the guest_memfd scenarios, and the peers' figures on them."""

from __future__ import annotations

from explorer.tools.bench import Case, Suite
from explorer.tools.prove_bench import ProveCase

LEGEND = (
    "Case `gfN-faM-pK`: N get_folio threads, M fallocate threads (mode either), "
    "1 preserver, K pages, as the default scenario otherwise: page 0 has a folio at the "
    "start, get_folio thread j faults on page j mod K. `-cold`: no folio at the start, "
    "so every get_folio takes the SRCU slow path."
)


def _case(get_folio: int, fallocate: int, pages: int, cold: bool = False) -> Case:
    name = f"gf{get_folio}-fa{fallocate}-p{pages}" + ("-cold" if cold else "")
    settings = {"get_folio": str(get_folio), "fallocate": str(fallocate),
                "pages": str(pages), "present": "" if cold else "0"}
    panel = "" if cold or pages != 2 else f"{fallocate} fallocate thread(s), 2 pages, 1 preserver"
    return Case(name, settings, x=get_folio, panel=panel, quick=get_folio <= 2)


def _weak(base: Case, srcu: str, memory_model: str) -> Case:
    """The same scenario under another memory model and/or Linux's SRCU algorithm."""
    return Case(f"{base.name}/{srcu}/{memory_model}", base.settings, x=base.x,
                quick=base.quick and base.x <= 1, memory_model=memory_model, srcu=srcu,
                strategies=("optimal",), baseline=base.name)


_BASE = [_case(g, f, p) for p in (1, 2) for f in (0, 1) for g in (1, 2, 3, 4)]
CASES = tuple(
    _BASE
    # Stress: no folio at the start, so every get_folio takes the SRCU slow path.
    + [_case(g, 1, 2, cold=True) for g in (2, 3)]
    + [
        _weak(b, srcu, mm)
        for b in _BASE if b.name in ("gf1-fa0-p2", "gf2-fa1-p2", "gf3-fa1-p2")
        for srcu, mm in (("abstract", "tso"), ("abstract", "pso"),
                         ("impl", "sc"), ("impl", "tso"), ("impl", "pso"))
    ]
)

# What ../shared/anchors.md reports for the peers (abstract SRCU, SC, 2 pages).
ANCHORS = {
    "gf1-fa0-p2": "SPIN 1.1K states 0.1 s; frontrun 15 execs 0.4 s",
    "gf2-fa0-p2": "frontrun 1,789 execs 19.8 s",
    "gf1-fa1-p2": "frontrun 3,319 execs 24.2 s",
    "gf2-fa1-p2": "SPIN 836K states 0.8 s; frontrun >30 s",
    "gf3-fa1-p2": "SPIN 23.1M states 44 s 2.2 GB; GenMC (per-CPU, SC) 438 execs 0.30 s "
    "~90 MB; frontrun >30 s",
    "gf1-fa0-p2/impl/sc": "SPIN (classic SRCU, SC) 2.3K states",
    "gf1-fa0-p2/impl/tso": "SPIN (classic SRCU, TSO) 3.8K states",
    "gf2-fa1-p2/impl/sc": "SPIN (classic SRCU, SC) 5.6M states 7.5 s",
    "gf2-fa1-p2/impl/tso": "SPIN (classic SRCU, TSO) 25.5M states 65 s 3.4 GB",
    "gf3-fa1-p2/impl/sc": "GenMC (classic SRCU, per-CPU, SC) 438 execs 0.30 s ~90 MB",
    "gf3-fa1-p2/impl/tso": "SPIN (classic SRCU, TSO): out of time/memory",
}

SUITE = Suite(
    model="guest_memfd",
    title="guest_memfd freeze, abstract SRCU, SC",
    legend=LEGEND,
    cases=CASES,
    x_label="get_folio threads",
    anchors=ANCHORS,
    memory_settings={"get_folio": "4", "fallocate": "2", "pages": "2", "present": ""},
)

# `explorer prove` (z3) against optimal DPOR, per scenario (explorer/tools/prove_bench.py).
PROVE_CASES = (
    ProveCase("tiny", "tiny"),
    ProveCase("tiny/no-synchronize", "tiny", mutant="no-synchronize"),
    ProveCase("small", "small"),
    ProveCase("small/no-synchronize", "small", mutant="no-synchronize"),
    ProveCase("small/fallocate-unchecked", "small", mutant="fallocate-unchecked"),
    ProveCase("small-allocate", "small", {"fallocate.0.mode": "allocate"}, quick=False),
    ProveCase("faults", "faults", quick=False),
)
