"""Why each mutant gets the verdicts it gets, in words (see explorer/tools/verdicts.py).

Written by reading the counterexamples `make verdicts` prints; keyed by
(model, mutant), or ("*", mutant) for every model. These sentences explain;
they never decide a verdict: if a regenerated matrix contradicts one, the
matrix is right and the note is stale.
"""

from __future__ import annotations

NOTES: dict[tuple[str, str], str] = {
    ("guest_memfd", "fix-freeze-count"): (
        "A candidate fix for two preservers of one inode (reports/findings.md): on the "
        "matrix's scenarios, one preserver per inode, it must change no verdict, and it "
        "does not."
    ),
    ("guest_memfd", "fix-ebusy"): (
        "A candidate fix for two preservers of one inode (reports/findings.md); with one "
        "preserver per inode a freeze never meets a frozen inode, so nothing changes."
    ),
    ("guest_memfd", "fix-mutex"): (
        "The candidate that does not fix two preservers of one inode (reports/findings.md); "
        "here it only adds a lock around the flag update."
    ),
    ("guest_memfd", "invalidate-lock-flag"): (
        "freeze() holds filemap_invalidate_lock() around the flag write only: nothing "
        "changes but waiting (reports/findings.md, question a)."
    ),
    ("guest_memfd", "invalidate-lock-freeze"): (
        "freeze() holds filemap_invalidate_lock() across synchronize_srcu(): a fallocate "
        "inside its read-side section waits for the lock, the grace period waits for the "
        "fallocate: a deadlock wherever a fallocate runs (reports/findings.md, question a)."
    ),
    ("*", "(none)"): (
        "The patch as posted, on the matrix's scenarios (one preserver per inode): no "
        "violation under any memory model with either SRCU model. "
        "Under TSO/PSO the flag store waits in the preserver's store buffer only until "
        "synchronize_srcu()'s first smp_mb(), before any scan reads a counter."
    ),
    ("guest_memfd", "no-synchronize"): (
        "freeze() returns right after its WRITE_ONCE: a reader already past its frozen "
        "check allocates inside the window. Under TSO/PSO the flag store may even still be "
        "buffered when freeze() returns (the evidence shows it)."
    ),
    ("guest_memfd", "check-before-lock"): (
        "The reader tests the flag before entering its read-side section, so "
        "synchronize_srcu() does not wait for it: it reads FROZEN = 0, freeze() returns, "
        "and it allocates. A pure interleaving bug: SC suffices."
    ),
    ("guest_memfd", "unlock-before-alloc"): (
        "The reader leaves its section between the check and the allocation; the grace "
        "period ends in that gap and the allocation lands after freeze() returned."
    ),
    ("guest_memfd", "flag-after-synchronize"): (
        "The grace period runs before the flag is set, so it waits for nobody who matters: "
        "a reader that checks after the grace period but before the store allocates "
        "after freeze() has returned."
    ),
    ("guest_memfd", "fallocate-unchecked"): (
        "The pre-patch fallocate takes no SRCU section and never tests the flag: it "
        "allocates (or punches) after freeze() returned."
    ),
    ("*", "no-mb-in-read-lock"): (
        "Without barrier B the reader's lock-counter increment (this_cpu_inc, a plain "
        "store) can sit in its store buffer while the reader goes on to load the flag "
        "(store->load reordering, which TSO and PSO allow and SC does not): the scan reads "
        "the old count from memory, sees no reader, the grace period ends, and the reader "
        "that loaded FROZEN = 0 allocates. Holds under SC, where the increment is visible "
        "as soon as it runs."
    ),
    ("*", "no-mb-before-scan"): (
        "Holds: on TSO/PSO the only reordering the missing barrier would allow is the "
        "updater's earlier stores (the FROZEN flag, the published data) passing the "
        "counter loads of the first scan, and barrier A inside the scan orders them before "
        "the lock-counter loads anyway; barriers E and D cover the second scan. "
        "(The kernel needs it on weaker machines than these.)"
    ),
    ("*", "no-mb-in-scan"): (
        "Holds: barrier A orders the unlock-sum loads before the lock-sum loads, but TSO "
        "and PSO never reorder two loads, and the barrier before the scan already orders "
        "the updater's stores before them. Its real failure needs load->load reordering "
        "(Arm, Power), which no memory model here has."
    ),
    ("*", "no-mb-before-scan+no-mb-in-scan"): (
        "Each barrier masks the other (above); without both, the updater's flag store can "
        "stay buffered while the scan reads the lock counters. It breaks only with "
        "repeated grace periods: a reader fetched srcu_idx during the first grace period "
        "and increments in the second, the second scan reads its lock count as 0 while the "
        "second FROZEN (or published data) store is still buffered, and the reader then "
        "reads the stale flag (or data). Two updaters on one domain hide it on TSO, where "
        "srcu_gp_mutex's locked RMW drains the buffer, not on PSO."
    ),
    ("*", "single-scan"): (
        "Without the flip and the second scan, readers that fetched the current index are "
        "never waited for: synchronize_srcu() returns while they are inside. Breaks under "
        "SC already."
    ),
    ("*", "locks-before-unlocks"): (
        "Summing locks first lets a reader's nested lock and its unlocks land between the "
        "two sums: the lock sum read early equals the unlock sum read late while another "
        "reader is still inside, and the scan passes. Needs two readers on one index (the "
        "one-reader scenarios hold)."
    ),
}
