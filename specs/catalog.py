"""Everything `explorer` can check: each model family with the properties it must keep.

The CLI loads this module by name (see explorer/catalog.py), so the engine
itself knows nothing of guest_memfd.
"""

from __future__ import annotations

from explorer.models.guest_memfd import GuestMemfd
from explorer.models.litmus import LitmusFamily
from explorer.models.srcu_contract import SrcuContract

from explorer.catalog import Entry

from . import guest_memfd, litmus, srcu

ENTRIES = (
    Entry(GuestMemfd(), guest_memfd.PROPERTIES),
    Entry(SrcuContract(), srcu.PROPERTIES),
    Entry(LitmusFamily(), litmus.PROPERTIES),
)
DEFAULT_MODEL = "guest_memfd"
# Patch-level proofs in z3 (`explorer prove --spec NAME`).
# Name -> the module that defines it as SPEC (imported only when asked for: z3).
PROOFS = {"fallocate-refactor": "explorer.specs.fallocate_proof",
          "flag-layout": "explorer.specs.flag_layout"}
