"""Everything `explorer` can check: each model family with the properties it must keep.

The CLI loads this module by name (see explorer/catalog.py), so the engine
itself knows nothing of guest_memfd.
"""

from __future__ import annotations

from explorer.catalog import Entry
from models.guest_memfd import GuestMemfd
from models.litmus import LitmusFamily
from models.srcu_contract import SrcuContract

from . import guest_memfd, litmus, srcu

ENTRIES = (
    Entry(GuestMemfd(), guest_memfd.PROPERTIES),
    Entry(SrcuContract(), srcu.PROPERTIES),
    Entry(LitmusFamily(), litmus.PROPERTIES),
)
DEFAULT_MODEL = "guest_memfd"
# Patch-level proofs in z3 (`explorer prove --spec NAME`).
# Name -> the module that defines it as SPEC (imported only when asked for: z3).
PROOFS = {"fallocate-refactor": "specs.fallocate_proof", "flag-layout": "specs.flag_layout"}
