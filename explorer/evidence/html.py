"""The execution graph as one self-contained HTML page (no network, no external files).

The graph is embedded as JSON in a <script> tag; inline JavaScript draws it as
inline SVG: one column per thread that ran (swimlanes; a CPU's store-buffer
flushes in a narrower column right after its thread), one row per step in
execution order, the initial values in a column on the left, the relations as
arrows coloured by kind, with a checkbox per kind toggling them. At first only
the arrows that explain the violation show (edge attribute focus, see
graph._mark_focus; checkbox "toggle-focus"), and neither the store buffers'
bookkeeping nor its initial values ("toggle-internal"); an initial value shows
only while an arrow from it does. Hovering a step shows its code, reads, writes
and locals; hovering an arrow shows its location and value. The step that made
the property false is red (id "violating"), the one that opened its window blue
(id "window"); the property and its description are on top, with the blocked
threads of a deadlock.

Stable hooks (tests query them): step boxes `<g class="event" data-node="e6"
data-thread="...">`, init boxes `class="init"`, edges `<g class="edge kind-rf"
data-kind="rf" data-from=".." data-to="..">` (class "hidden" when not shown),
lane titles `data-lane`, checkboxes `id="toggle-rf"`, "toggle-focus",
"toggle-internal", the count `id="shown-count" data-shown=N`. A URL fragment
such as `#hide=rf,co,focus&show=internal` clicks those checkboxes after drawing.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from importlib import resources
from typing import Any

import networkx as nx

COLOURS = {
    "po": "#333333",
    "rf": "#1a7f37",
    "co": "#1f4fd1",
    "fr": "#d97706",
    "sb": "#8b5a2b",
    "hb": "#8a8a8a",
    "gp": "#8b3fc7",
}

DESCRIPTIONS = {
    "po": "program order",
    "rf": "reads-from",
    "co": "coherence",
    "fr": "from-reads",
    "sb": "store buffer: a store to the flush that makes it visible",
    "hb": "happens-before",
    "gp": "SRCU grace period",
}


def _plain(value: Any) -> Any:
    """JSON-safe copy: containers kept, anything else exotic as text."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)


def graph_data(graph: nx.MultiDiGraph, kinds: Sequence[str]) -> dict[str, Any]:
    """What the page draws: graph attributes, nodes (steps in order, then inits), edges
    (`kinds`: the edge kinds, in the order of their switches)."""
    steps = sorted(
        (n for n, d in graph.nodes(data=True) if d.get("kind") == "step"),
        key=lambda n: graph.nodes[n]["index"],
    )
    inits = [n for n, d in graph.nodes(data=True) if d.get("kind") == "init"]
    nodes = [{"id": n, **_plain(dict(graph.nodes[n]))} for n in steps + inits]
    edges = [
        {"from": u, "to": v, "key": str(k), **_plain(dict(d))}
        for u, v, k, d in graph.edges(keys=True, data=True)
    ]
    return {
        "graph": _plain(dict(graph.graph)),
        "nodes": nodes,
        "edges": edges,
        "kinds": list(kinds),
        "colours": COLOURS,
        "descriptions": DESCRIPTIONS,
    }


def _script_json(data: Any) -> str:
    """JSON that cannot end its <script> element or open a comment there."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=False)
    for raw, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                     ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, esc)
    return text


def _static(name: str) -> str:
    return resources.files(__package__).joinpath("static", name).read_text(encoding="utf-8")


def to_html(graph: nx.MultiDiGraph, kinds: Sequence[str]) -> str:
    """The page, as text (see the module docstring); `kinds` as for graph_data (the
    graph module passes its own, so that this module need not import it)."""
    g = graph.graph
    title = f"{g.get('model') or 'execution'}: {g.get('property') or 'execution graph'}"
    return (
        _static("graph.html").replace("@TITLE@", html.escape(str(title)))
        .replace("@STYLE@", _static("graph.css"))
        .replace("@DATA@", _script_json(graph_data(graph, kinds)))
        .replace("@SCRIPT@", _static("graph.js"))
    )
