"""The execution graph of one run: events and the relations between them.

Nodes are the executed steps ("e1", "e2", ... in trace order, attributes as in
the JSON trace plus tags), and one "init.LOC" node per location that some
step reads before any step writes it. Edges (MultiDiGraph; attribute `kind`):

  po  program order: consecutive steps of one thread (key "po")
  rf  reads-from: the write (or init) whose value a read observes (key "rf:LOC";
      attributes location, value). A step that reads and writes a location
      reads it before it writes it. Under TSO/PSO a load reads memory, or the
      newest store still in its own CPU's buffer.
  co  coherence: successive writes of each location to memory, init first
      (key "co:LOC"; under TSO/PSO a buffered store is in it as its flush)
  fr  from-reads: a read to the write that next overwrites what it read
      (key "fr:LOC"; a read-modify-write step gets no edge to itself)
  sb  store buffer (TSO/PSO): a buffered store to the flush that makes it
      visible to the other CPUs (key "sb:LOC"; attributes location, value)
  hb  the explorer's happens-before, reduced to immediate dependencies: an
      edge from an earlier event of another thread whose declared footprint
      (shared, ghost, and the invariant-visibility pseudo-location) conflicts
      with the event's, unless already implied through po and other hb
      edges (key "hb"; between the events' scheduled, non-fused steps)
  gp  SRCU grace periods (from step tags): from the unlock ending an outermost
      read-side section that was open when synchronize_srcu() began to that
      synchronize's return (waited=true), or from the begin of a grace period
      still running to the lock of a section that started after it
      (waited=false: it did not have to wait) (key "gp")

Graph attributes: model, threads, schedule, property, property_description,
property_detail, violating_node (the step that made an invariant or final
property false; None for a deadlock), window_node (the step that opened the
violated invariant's window, see evidence/moments.py; its node has
opens_window {ghost: value}), races (the decisive races, [first, second]
nodes), lanes (the columns to draw, [{title, threads, buffer}]: threads that
ran, each CPU's store-buffer flushers next to its thread), blocked (for a
deadlock: the threads stuck, where, and on what).

Every edge has `focus` (it explains the violation: see _mark_focus; all of
them when there is no violating step) and `internal` (a location of the store
buffers' bookkeeping, sb.*); an init node has `internal` too.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import networkx as nx

from ..compile.lowering import FLUSH_TAG, bookkeeping
from ..compile.program import Program, StepRecord, Transition, render
from ..lang.family import BadInput
from ..search.replay import replay
from ..search.result import DEADLOCK, Failure
from .explain import Race, decisive_races
from .html import to_html
from .moments import moments

KINDS = ("po", "rf", "co", "fr", "sb", "hb", "gp")
EDGE_STYLE = {
    "po": 'color="black", penwidth=1.5',
    "rf": 'color="darkgreen"',
    "co": 'color="blue", style="dashed"',
    "fr": 'color="orange", style="dashed"',
    "sb": 'color="brown", style="dashed"',
    "hb": 'color="gray50", style="dotted"',
    "gp": 'color="purple", penwidth=2',
}


def node_id(index: int) -> str:
    return f"e{index}"


def init_id(location: str) -> str:
    return f"init.{location}"


def execution_graph(
    program: Program, schedule: Sequence[Transition], failure: Failure | None = None,
    races: Sequence[Race] | None = None,
) -> nx.MultiDiGraph:
    """Replays `schedule` and returns its execution graph (ModelError if it does not
    fit). `races`: those that decided `failure` (explain.decisive_races; found here
    when not given) for the edges that explain it (see _mark_focus)."""
    records, state = replay(program, schedule)
    g = nx.MultiDiGraph()
    g.graph.update(
        model=program.model.name,
        # Store-buffer flushers only when they flushed something in this run.
        threads=[t.name for i, t in enumerate(program.threads)
                 if not t.daemon or any(i == x for x, _ in schedule)],
        schedule=[[t, v] for t, v in schedule],
        property=failure.name if failure else None,
        property_description=failure.description if failure else None,
        property_detail=failure.detail if failure else None,
        violating_node=None,
        window_node=None,
        races=[],
        lanes=[],
        blocked=[],
    )
    events = _add_nodes(g, records)
    _add_po(g, records)
    _add_memory(g, program, records)
    _add_hb(g, records, events)
    _add_gp(g, records)
    if failure is not None:
        if failure.name == DEADLOCK:
            g.graph["blocked"] = [
                {
                    "thread": program.threads[t].name,
                    "step": cs.step.label,
                    "line": cs.step.line,
                    "waits_for": cs.step.waits_for or "guard false",
                }
                for t, cs in program.blocked(state)
            ]
        else:
            last = [i for i, rec in enumerate(records, 1) if not rec.fused]
            if last:
                g.graph["violating_node"] = node_id(last[-1])
                g.nodes[node_id(last[-1])]["violating"] = True
            window = moments(program, records, failure.name, state).window
            if window is not None:
                g.graph["window_node"] = node_id(window.step)
                g.nodes[node_id(window.step)]["opens_window"] = dict(window.values)
            if races is None:
                races = decisive_races(program, list(schedule), records, failure.name)
            g.graph["races"] = [[node_id(x.first), node_id(x.second)] for x in races]
    g.graph["lanes"] = _lanes(program, records, [b["thread"] for b in g.graph["blocked"]])
    _mark_focus(g)
    return g


def _lanes(program: Program, records: list[StepRecord], blocked: Sequence[str] = ()
           ) -> list[dict[str, Any]]:
    """The columns to draw: each thread that ran (or is blocked), and right after it
    one for the flushers of its CPU's store buffer that ran (a flusher of a CPU with
    no such thread gets a column of its own, at the end)."""
    ran = {rec.thread for rec in records}
    model_threads = program.model.threads
    lanes: list[dict[str, Any]] = []
    after: dict[str, dict[str, Any]] = {}  # CPU -> its buffer's lane
    for i, t in enumerate(model_threads):
        if t.daemon or (i not in ran and t.name not in blocked):
            continue
        lanes.append({"title": t.name, "threads": [t.name], "buffer": False})
        if t.home not in after:
            after[t.home] = {"title": f"{t.home}'s store buffer", "threads": [], "buffer": True}
            lanes.append(after[t.home])
    for i, t in enumerate(model_threads):
        if t.daemon and i in ran:
            if t.home not in after:
                after[t.home] = {"title": f"{t.home}'s store buffer", "threads": [],
                                 "buffer": True}
                lanes.append(after[t.home])
            after[t.home]["threads"].append(t.name)
    return [lane for lane in lanes if lane["threads"]]


def _mark_focus(g: nx.MultiDiGraph) -> None:
    """Marks the edges that explain the violation (attribute focus; the page shows
    only those at first): program order of the threads involved (those of the
    violating step, the window-opening step and the decisive races); the rf and sb
    edges into the violating and the window-opening step, and co from an earlier
    write; the memory edges between the two steps of a decisive race (hb when there
    is none) and the rf/sb edges into them on the raced-for locations; the grace
    periods; for a value read from a flush, the store it flushed. Never an edge of
    the store buffers' bookkeeping or from a ghost's initial value. Without a
    violating step, every edge but the bookkeeping's is focus."""
    key = [n for n in (g.graph["violating_node"], g.graph["window_node"]) if n]
    races = [tuple(r) for r in g.graph["races"]]
    for _u, _v, d in g.edges(data=True):
        d["internal"] = bookkeeping(d["location"]) if "location" in d else False
        d["focus"] = not key and not d["internal"]
    if not key:
        return
    ends = {n for pair in races for n in pair}
    threads = {g.nodes[n]["thread"] for n in set(key) | ends}
    raced = {loc for a, b in races for loc in _shared(g, a, b)}
    focus: set[tuple[str, str, str]] = set()
    # A race is drawn by its memory edges, by hb only when it has none.
    linked = {(u, v) for u, v, d in g.edges(data=True) if d["kind"] in ("rf", "co", "fr", "sb")}
    for u, v, k, d in g.edges(keys=True, data=True):
        kind = d["kind"]
        # The initial value of a ghost (instrumentation) explains nothing.
        if d["internal"] or g.nodes[u].get("ghost"):
            continue
        raced_pair = (u, v) in races or (v, u) in races
        explains = (
            kind == "po" and g.nodes[u]["thread"] in threads and not _is_flush(g, u),
            kind in ("rf", "sb") and v in key,
            kind == "co" and v in key and g.nodes[u]["kind"] != "init",
            raced_pair and (kind != "hb" or not ({(u, v), (v, u)} & linked)),
            kind in ("rf", "sb") and v in ends and d["location"] in raced,
            kind == "gp",
        )
        if any(explains):
            focus.add((u, v, k))
    # A value that came through a store buffer: the store, then its flush.
    for u, _v, _k in list(focus):
        if _is_flush(g, u):
            focus |= {(a, b, k) for a, b, k, d in g.in_edges(u, keys=True, data=True)
                      if d["kind"] == "sb"}
    for u, v, k in focus:
        g.edges[u, v, k]["focus"] = True


def _is_flush(g: nx.MultiDiGraph, n: str) -> bool:
    return any(str(t).startswith(FLUSH_TAG) for t in g.nodes[n].get("tags", ()))


def _shared(g: nx.MultiDiGraph, a: str, b: str) -> set[str]:
    """The locations both steps access."""
    def touched(n: str) -> set[str]:
        d = g.nodes[n]
        return set(d["reads"]) | set(d["writes"])
    return touched(a) & touched(b)


def from_outcome(outcome: Any) -> nx.MultiDiGraph:
    """The graph of an api.Outcome's violating run (BadInput when there is none)."""
    r = outcome.result
    if outcome.program is None or r.schedule is None:
        raise BadInput("no execution to draw: the check found no violating run")
    return execution_graph(outcome.program, r.schedule, r.failure, outcome.races)


# -- construction ---------------------------------------------------------------


def _add_nodes(g: nx.MultiDiGraph, records: list[StepRecord]) -> list[list[int]]:
    """Adds one node per step; returns the 1-based step indices of each event."""
    events: list[list[int]] = []
    for i, rec in enumerate(records, 1):
        if not rec.fused or not events:
            events.append([])
        events[-1].append(i)
        g.add_node(
            node_id(i),
            kind="step",
            index=i,
            event=len(events),
            thread=rec.thread_name,
            operation=rec.op,
            args=rec.op_args,
            step=rec.label,
            line=rec.line,
            code=rec.code,
            reads=dict(rec.reads),
            writes=dict(rec.writes),
            locals=dict(rec.locals),
            chosen=rec.chosen,
            fused=rec.fused,
            tags=list(rec.tags),
            buffered=[x for x, _cpu, _v in rec.buffered],
            violating=False,
        )
    return events


def _add_po(g: nx.MultiDiGraph, records: list[StepRecord]) -> None:
    last: dict[int, int] = {}
    for i, rec in enumerate(records, 1):
        if rec.thread in last:
            g.add_edge(node_id(last[rec.thread]), node_id(i), key="po", kind="po")
        last[rec.thread] = i


def _add_memory(g: nx.MultiDiGraph, program: Program, records: list[StepRecord]) -> None:
    """rf, co, fr and sb from the declared reads and writes. Memory is sequentially
    consistent; under TSO/PSO a store enters its CPU's buffer and reaches memory at
    its flush (an sb edge from the store to it), so co orders the flushes, a load on
    another CPU reads from memory (a flush, a direct write or init) and a load on the
    storing CPU may read its own buffered store."""
    home = [t.home for t in program.model.threads]
    latest: dict[str, str] = {}  # location -> node of its last write to memory so far
    writers: dict[str, list[str]] = {}  # location -> writes to memory in coherence order
    pending: dict[tuple[str, str], list[str]] = {}  # (CPU, location) -> buffered stores
    flushed_by: dict[str, str] = {}  # a buffered store -> its flush
    reads_from: list[tuple[str, str, str]] = []  # (reader, location, source)
    for i, rec in enumerate(records, 1):
        me = node_id(i)
        for loc, value in rec.reads:
            own = pending.get((home[rec.thread], loc))
            if loc in rec.forwarded and own:
                src = own[-1]  # its own CPU's newest buffered store
            elif loc in latest:
                src = latest[loc]
            else:
                src = init_id(loc)
                if src not in g:
                    slot = program._loc(loc)
                    init = render(program.decls[slot].init, program.decls[slot])
                    g.add_node(src, kind="init", location=loc, value=init,
                               internal=bookkeeping(loc), ghost=loc in program.model.ghosts)
                    writers.setdefault(loc, []).insert(0, src)
            g.add_edge(src, me, key=f"rf:{loc}", kind="rf", location=loc, value=value)
            reads_from.append((me, loc, src))
        buffered = {x for x, _cpu, _v in rec.buffered}
        for loc, _value in rec.writes:
            if loc not in buffered:
                latest[loc] = me
                writers.setdefault(loc, []).append(me)
        for x, cpu, _v in rec.buffered:
            pending.setdefault((cpu, x), []).append(me)
        for tag in rec.tags:
            if tag.startswith(FLUSH_TAG):  # the oldest store of that buffer reaches memory
                cpu, _, x = tag[len(FLUSH_TAG):].partition(":")
                if pending.get((cpu, x)):
                    store = pending[(cpu, x)].pop(0)
                    flushed_by[store] = me
                    g.add_edge(store, me, key=f"sb:{x}", kind="sb", location=x,
                               value=dict(rec.writes).get(x))
    successor: dict[tuple[str, str], str] = {}
    for loc, ws in writers.items():
        for a, b in zip(ws, ws[1:], strict=False):
            g.add_edge(a, b, key=f"co:{loc}", kind="co", location=loc)
            successor[(loc, a)] = b
    for reader, loc, src in reads_from:
        nxt = successor.get((loc, flushed_by.get(src, src)))
        if nxt is not None and nxt != reader:
            g.add_edge(reader, nxt, key=f"fr:{loc}", kind="fr", location=loc)


def _add_hb(g: nx.MultiDiGraph, records: list[StepRecord], events: list[list[int]]) -> None:
    """Cross-thread edges of the transitive reduction of po ∪ dependency order."""
    rmask, wmask, thread = [], [], []
    for steps in events:
        recs = [records[i - 1] for i in steps]
        rmask.append(sum(1 << x for rec in recs for x in set(rec.rlocs)))
        wmask.append(sum(1 << x for rec in recs for x in set(rec.wlocs)))
        thread.append(recs[0].thread)
    reach: list[int] = []  # per event: bitset of the events that happen before it
    for j in range(len(events)):
        preds = []
        seen_po = False
        for i in range(j - 1, -1, -1):
            if thread[i] == thread[j]:
                if not seen_po:  # program order: earlier ones of the thread are implied
                    preds.append((i, False))
                    seen_po = True
            elif (rmask[i] & wmask[j]) | (wmask[i] & rmask[j]) | (wmask[i] & wmask[j]):
                preds.append((i, True))
        mine = 0
        for i, dep in preds:  # latest first: an earlier one is implied if already reached
            if mine >> i & 1:
                continue
            mine |= reach[i] | 1 << i
            if dep:
                g.add_edge(node_id(events[i][0]), node_id(events[j][0]), key="hb", kind="hb")
        reach.append(mine)


def _add_gp(g: nx.MultiDiGraph, records: list[StepRecord]) -> None:
    """Grace-period edges from the srcu.* tags (see the module docstring)."""
    depth: dict[tuple[int, str], int] = {}
    # (domain, thread, lock index, unlock index or None)
    sections: list[tuple[str, int, int, int | None]] = []
    open_at: dict[tuple[int, str], int] = {}
    # (domain, thread, begin index, return index or None)
    syncs: list[tuple[str, int, int, int | None]] = []
    for i, rec in enumerate(records, 1):
        for tag in rec.tags:
            what, _, domain = tag.partition(":")
            key = (rec.thread, domain)
            if what == "srcu.lock":
                depth[key] = depth.get(key, 0) + 1
                if depth[key] == 1:
                    open_at[key] = i
            elif what == "srcu.unlock" and depth.get(key, 0) > 0:
                depth[key] -= 1
                if depth[key] == 0:
                    sections.append((domain, rec.thread, open_at.pop(key), i))
            elif what == "srcu.sync.begin":
                syncs.append((domain, rec.thread, i, None))
            elif what == "srcu.sync.return":
                for k in range(len(syncs) - 1, -1, -1):
                    d, t, b, r = syncs[k]
                    if d == domain and t == rec.thread and r is None:
                        syncs[k] = (d, t, b, i)
                        break
    sections += [(d, t, lock, None) for (t, d), lock in open_at.items()]
    for domain, _sthread, begin, ret in syncs:
        for d, _rthread, lock, unlock in sections:
            if d != domain:
                continue
            if lock < begin and (unlock is None or unlock > begin):
                if unlock is not None and ret is not None:
                    g.add_edge(
                        node_id(unlock), node_id(ret), key="gp", kind="gp",
                        domain=domain, waited=True,
                    )
            elif lock > begin and (ret is None or lock < ret):
                g.add_edge(
                    node_id(begin), node_id(lock), key="gp", kind="gp",
                    domain=domain, waited=False,
                )


# -- export -------------------------------------------------------------------------


FORMATS = (".dot", ".graphml", ".json", ".svg", ".html")


def check_format(path: str | Path) -> None:
    """Fails early (before a long check) on an extension export cannot write."""
    ext = Path(path).suffix.lower()
    if ext not in FORMATS:
        raise BadInput(
            f"cannot export a graph as {ext or 'a file without extension'!r} "
            f"(known: {', '.join(FORMATS)})"
        )


def check_output(path: str | Path, force: bool = False) -> None:
    """Fails before a search on an output path export would refuse or could not
    write: an unknown extension, an existing file (unless `force`), a folder
    that does not exist or is not a folder."""
    check_format(path)
    p = Path(path)
    if p.is_dir():
        raise BadInput(f"graph file {p} is a folder")
    if os.path.lexists(p) and not force:
        raise BadInput(f"graph file {p} exists (will not overwrite it without --force)")
    parent = p.parent if p.parent != Path() else Path(".")
    if not parent.is_dir():
        raise BadInput(f"graph file {p}: no folder {parent}")


def export(graph: nx.MultiDiGraph, path: str | Path) -> None:
    """Writes the graph as .dot, .graphml, .json (node-link), .svg (via Graphviz)
    or .html (self-contained page, see explorer.evidence.html)."""
    path = Path(path)
    ext = path.suffix.lower()
    check_format(path)
    if ext == ".dot":
        path.write_text(to_dot(graph))
    elif ext == ".graphml":
        nx.write_graphml(_flat(graph), path)
    elif ext == ".json":
        data = nx.node_link_data(graph, edges="edges")
        path.write_text(json.dumps(data, indent=2) + "\n")
    elif ext == ".html":
        path.write_text(to_html(graph, KINDS), encoding="utf-8")
    elif ext == ".svg":
        dot = shutil.which("dot")
        if dot is None:
            raise BadInput(
                "Graphviz's dot is not installed; install it (apt-get install graphviz) "
                "or export .dot"
            )
        run = subprocess.run(
            [dot, "-Tsvg", "-o", str(path)], input=to_dot(graph), text=True,
            capture_output=True, check=False,
        )
        if run.returncode != 0:
            err = " ".join(run.stderr.split()) or f"exit status {run.returncode}"
            raise BadInput(f"Graphviz's dot failed on the graph: {err}")


def _scalar(value: Any) -> str | int | float | bool:
    """An attribute value GraphML and DOT can hold: containers become JSON text."""
    if value is None:
        return ""
    if isinstance(value, str | int | float | bool):
        return value
    return json.dumps(value)


def _flat(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    out = nx.MultiDiGraph()
    out.graph.update({k: _scalar(v) for k, v in graph.graph.items()})
    for n, attrs in graph.nodes(data=True):
        out.add_node(n, **{k: _scalar(v) for k, v in attrs.items()})
    for u, v, k, attrs in graph.edges(keys=True, data=True):
        out.add_edge(u, v, key=k, **{a: _scalar(x) for a, x in attrs.items()})
    return out


def _q(value: Any) -> str:
    s = _scalar(value)
    if isinstance(s, bool):
        s = "true" if s else "false"
    text = str(s).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"'


def _attrs(attrs: dict[str, Any], extra: str = "") -> str:
    parts = [f"{k}={_q(v)}" for k, v in attrs.items()]
    if extra:
        parts.append(extra)
    return ", ".join(parts)


def to_dot(graph: nx.MultiDiGraph) -> str:
    """DOT text: every attribute kept (containers as JSON), threads as clusters."""
    bad = graph.graph.get("violating_node")
    lines = ["digraph execution {"]
    lines += [f"  {k}={_q(v)};" for k, v in graph.graph.items()]
    lines.append("  rankdir=TB;")
    lines.append('  node [shape=box, fontname="monospace", fontsize=10];')
    clusters: dict[str, list[str]] = {}
    for n, attrs in graph.nodes(data=True):
        if attrs.get("kind") == "init":
            label = f"init {attrs['location']} = {attrs['value']}"
            style = 'shape=ellipse, color="gray40"'
        else:
            clusters.setdefault(attrs["thread"], []).append(n)
            label = f"{attrs['index']}. {attrs['thread']}: {attrs['step']}\n{attrs['line']}"
            style = 'color="red", fontcolor="red", penwidth=3' if n == bad else ""
        extra = f"label={_q(label)}" + (f", {style}" if style else "")
        lines.append(f"  {_q(n)} [{_attrs(attrs, extra)}];")
    for u, v, _k, attrs in graph.edges(keys=True, data=True):
        kind = attrs.get("kind", "")
        shown = kind if kind in ("po", "hb", "co") else f"{kind} {attrs.get('location', '')}"
        if kind == "gp":
            shown = "gp waited" if attrs.get("waited") else "gp no wait"
        extra = f"label={_q(shown.strip())}, {EDGE_STYLE.get(kind, '')}".rstrip(", ")
        lines.append(f"  {_q(u)} -> {_q(v)} [{_attrs(attrs, extra)}];")
    for k, (thread, members) in enumerate(clusters.items()):
        names = " ".join(map(_q, members))
        lines.append(f"  subgraph cluster_{k} {{ label={_q(thread)}; {names}; }}")
    lines.append("}")
    return "\n".join(lines) + "\n"
