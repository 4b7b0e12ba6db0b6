"""SRCU on its own: readers and an updater, to check SRCU's contract and its misuse.

Each reader runs srcu_read_lock(), a critical-section body (a ghost step
marking that the body has begun, one marking that it ended), and
srcu_read_unlock(). The updater marks which bodies have begun, calls
synchronize_srcu(), and records whether any of those bodies is still running.
The `self-deadlock` scenario has the updater call synchronize_srcu() from
inside its own read-side critical section, which SRCU forbids.

With ``publish=1`` the updater also does WRITE_ONCE(gp_data, g) before its
g-th grace period and each body begins by reading gp_data: a body that read
an older value must have ended when that synchronize_srcu() returns
(grace-period-data, the guarantee as the kernel memory model states it). The
ghost-only contract cannot see the updater's barriers under TSO/PSO (ghosts
are never buffered and loads are never reordered there); this one can.
``--srcu impl`` runs srcutree.c's algorithm (models/srcu_impl.py) and takes
its barrier mutants.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from explorer.lang.access import store
from explorer.lang.builder import OpBuilder
from explorer.lang.expr import Ghost, Shared, ite, land, le, lor, ne
from explorer.lang.family import BadInput, Family, Param, Scenario
from explorer.lang.model import DONE, Model, Thread, VarDecl

from .srcu import SRCUTREE, AbstractSrcu, SrcuDomain
from .srcu_impl import BARRIER_MUTANTS, ImplSrcu, removed_by, require_impl

P_READERS = Param("readers", "2", "reader threads", low=0, high=4)
P_NEST = Param("nest", "1", "nesting depth of reader 0's read-side section", low=1, high=3)
P_GPS = Param("grace_periods", "1", "synchronize_srcu() calls by the updater", low=1, high=3)
P_MIGRATE = Param("migrate", "0", "1: reader 0's srcu_read_unlock() runs on reader 1's CPU "
                  "(--srcu impl; the abstract SRCU has no CPUs)", low=0, high=1)

P_PUBLISH = Param("publish", "0", "1: the updater does WRITE_ONCE(gp_data, g) before its "
                  "g-th synchronize_srcu() and each reader's body reads gp_data", low=0, high=1)



def in_body(r: str) -> str:
    return f"in_body.{r}"


def must_end(r: str) -> str:
    return f"must_end.{r}"


def saw(r: str) -> str:
    return f"saw.{r}"


LATE = "late_body"
STALE = "stale_body"
DATA = "gp_data"


class SrcuContract(Family):
    name = "srcu"
    description = "SRCU's grace-period guarantee with readers and one updater"
    srcu_models = ("abstract", "impl")
    mutants = BARRIER_MUTANTS
    scenarios = (
        Scenario("default", "2 readers (reader 0 nests twice) and 1 updater", {"nest": "2"}),
        Scenario("three-readers", "3 readers (reader 0 nests twice) and 1 updater",
                 {"nest": "2", "readers": "3"}),
        Scenario("repeat", "2 readers (reader 0 nests twice), the updater runs 2 grace "
                 "periods in sequence", {"nest": "2", "grace_periods": "2"}),
        Scenario("publish", "default, and the updater publishes data before synchronize_srcu() "
                 "that the bodies read", {"nest": "2", "publish": "1"}),
        Scenario("publish-repeat", "publish, with 2 grace periods in sequence",
                 {"nest": "2", "publish": "1", "grace_periods": "2"}),
        Scenario("migrate", "2 readers (reader 0 nests twice and unlocks on reader 1's CPU)",
                 {"nest": "2", "migrate": "1"}),
        Scenario(
            "self-deadlock",
            "the updater calls synchronize_srcu() inside its own read-side section",
            {"updater_reads": "1"},
        ),
    )

    def params(self, settings: Mapping[str, str]) -> list[Param]:
        return [
            P_READERS, P_NEST, P_GPS, P_MIGRATE, P_PUBLISH,
            Param("updater_reads", "0", "1: the updater holds srcu_read_lock() around "
                  "synchronize_srcu() (a bug)", low=0, high=1),
        ]

    def build(self, values: Mapping[str, Any], mutant: str | None, srcu: str) -> Model:
        require_impl(mutant, srcu)
        readers = [f"reader{j}" for j in range(values["readers"])]
        updater = "updater"
        users = readers + ([updater] if values["updater_reads"] else [])
        domain: SrcuDomain
        if srcu == "impl":
            if values["migrate"] and len(readers) < 2:
                raise BadInput("migrate=1 needs at least 2 readers")
            migrate = {readers[0]: readers[1]} if values["migrate"] else {}
            domain = ImplSrcu("srcu", users, removed_by(mutant), migrate=migrate)
        else:
            domain = AbstractSrcu("srcu", users)
        shared = domain.shared()
        if values["publish"]:
            shared[DATA] = VarDecl(doc="data the updater publishes before each grace period")
        ghosts = {
            LATE: VarDecl(0, "dec", "a body that began before a grace period "
                          "was still running when it ended"),
            STALE: VarDecl(0, "dec", "a body that read gp_data from before a grace period "
                           "was still running when it ended"),
        }
        for r in readers:
            ghosts[in_body(r)] = VarDecl(0, "bool", f"{r}'s critical-section body is running")
            ghosts[must_end(r)] = VarDecl(0, "bool", f"{r}'s body began before the grace "
                                          "period and has not ended")
            ghosts[saw(r)] = VarDecl(0, "dec", f"the gp_data {r}'s body read")
        threads = [Thread(r, (self._reader(domain, r, values["nest"] if j == 0 else 1,
                                           bool(values["publish"])),))
                   for j, r in enumerate(readers)]
        threads.append(Thread(updater, (self._updater(domain, readers, values),)))
        return Model("srcu", shared, ghosts, tuple(threads), description=self.description)

    def _reader(self, d: SrcuDomain, r: str, nest: int, publish: bool) -> Any:
        b = OpBuilder("reader", f"nesting {nest}")
        for i in range(nest):  # each nesting level keeps its own idx
            d.read_lock(b, r, f"srcu_read_lock.{i}",
                        f"srcu_read_lock.{i + 1}" if i + 1 < nest else "body_begin",
                        f"{SRCUTREE}: srcu_read_lock()", f"idx{i} = srcu_read_lock(&ss);",
                        idx=f"idx{i}")
        if publish:  # the body's first access reads what the updater published
            b.add("body_begin", "reader", "r = READ_ONCE(gp_data);  /* body begins */",
                  reads=[DATA], writes=[in_body(r), saw(r)], order="once",
                  update={Ghost(in_body(r)): 1, Ghost(saw(r)): Shared(DATA)}, next="body_end")
        else:
            b.add("body_begin", "reader", "/* critical-section body begins */",
                  writes=[in_body(r)], update={Ghost(in_body(r)): 1}, next="body_end")
        b.add("body_end", "reader", "/* critical-section body ends */",
              writes=[in_body(r), must_end(r)],
              update={Ghost(in_body(r)): 0, Ghost(must_end(r)): 0},
              next="srcu_read_unlock.0")
        for i in range(nest):  # innermost first
            level = nest - 1 - i
            d.read_unlock(b, r, f"srcu_read_unlock.{i}",
                          f"srcu_read_unlock.{i + 1}" if i + 1 < nest else DONE,
                          f"{SRCUTREE}: srcu_read_unlock()",
                          f"srcu_read_unlock(&ss, idx{level});", idx=f"idx{level}")
        return b.build()

    def _updater(self, d: SrcuDomain, readers: list[str], values: Mapping[str, Any]) -> Any:
        b = OpBuilder("updater", f"{values['grace_periods']} grace period(s)")
        gps = values["grace_periods"]
        holds = bool(values["updater_reads"])
        if holds:
            d.read_lock(b, "updater", "srcu_read_lock",
                        "gp0.publish" if values["publish"] else "gp0.mark",
                        f"{SRCUTREE}: srcu_read_lock()", "idx = srcu_read_lock(&ss);")
        for g in range(gps):
            last = g + 1 == gps
            start = f"gp{g + 1}.publish" if values["publish"] else f"gp{g + 1}.mark"
            after = ("srcu_read_unlock" if holds else DONE) if last else start
            if values["publish"]:
                b.add(f"gp{g}.publish", "updater", f"WRITE_ONCE(gp_data, {g + 1});",
                      **store(DATA, g + 1), next=f"gp{g}.mark")
            b.add(f"gp{g}.mark", "updater", "/* note which bodies have begun */",
                  reads=[in_body(r) for r in readers], writes=[must_end(r) for r in readers],
                  update={Ghost(must_end(r)): Ghost(in_body(r)) for r in readers},
                  next=f"gp{g}.synchronize_srcu.begin")
            d.synchronize(
                b, f"gp{g}.synchronize_srcu.", f"gp{g}.check",
                f"{SRCUTREE}: synchronize_srcu()", "synchronize_srcu(&ss);",
            )
            late = lor(*(ne(Ghost(must_end(r)), 0) for r in readers))
            # A body still running that read gp_data from before this grace period.
            stale = lor(*(land(ne(Ghost(in_body(r)), 0), le(Ghost(saw(r)), g))
                          for r in readers))
            b.add(f"gp{g}.check", "updater", "/* every body noted must have ended */",
                  reads=[must_end(r) for r in readers] + [LATE, STALE]
                  + [x for r in readers for x in (in_body(r), saw(r))],
                  writes=[LATE, STALE],
                  update={Ghost(LATE): ite(ne(Ghost(LATE), 0), Ghost(LATE), late),
                          Ghost(STALE): ite(ne(Ghost(STALE), 0), Ghost(STALE),
                                            stale if values["publish"] else 0)},
                  next=after)
        if holds:
            d.read_unlock(b, "updater", "srcu_read_unlock", DONE,
                          f"{SRCUTREE}: srcu_read_unlock()", "srcu_read_unlock(&ss, idx);")
        first = "gp0.publish" if values["publish"] else "gp0.mark"
        return b.build("srcu_read_lock" if holds else first)

