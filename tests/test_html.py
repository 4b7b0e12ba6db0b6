"""The .html export: a self-contained page, checked as drawn by headless Chromium.

Chromium is Debian's `chromium`; `make tools` installs it, and so does
ensure_chromium() when it is missing and this runs as root with apt-get. The
browser tests skip, saying why, only where it cannot be installed.

`python tests/test_html.py [PNG]` writes the screenshot of the default mutant's
counterexample (reports/counterexample.png unless told otherwise).
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import networkx as nx
import pytest
from common import MUTANTS

from explorer.api import check
from explorer.evidence import graph as graph_mod
from explorer.evidence.graph import FORMATS, KINDS, export, from_outcome
from explorer.evidence.html import to_html

ROOT = Path(__file__).resolve().parent.parent

DEFAULT_MUTANT = "no-synchronize"
SCREENSHOT = ROOT / "reports" / "counterexample.png"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


# -- Chromium ---------------------------------------------------------------------


def _which_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@functools.cache
def _find_or_install() -> tuple[str | None, str]:
    """(path, "") or (None, why not); tries apt-get at most once per session."""
    found = _which_chromium()
    if found:
        return found, ""
    apt = shutil.which("apt-get")
    if apt is None:
        return None, "chromium is not installed and apt-get is not available to install it"
    if os.geteuid() != 0:
        return None, "chromium is not installed and installing it needs root (apt-get)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        for cmd in ([apt, "update", "-qq"], [apt, "install", "-y", "-qq", "chromium"]):
            run = subprocess.run(cmd, env=env, capture_output=True, text=True,
                                 timeout=600, check=False)
            if run.returncode != 0:
                err = " ".join((run.stderr or run.stdout).split())[-300:]
                return None, f"could not install chromium ({' '.join(cmd[1:])}): {err}"
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"could not install chromium: {exc}"
    found = _which_chromium()
    return (found, "") if found else (None, "apt-get installed chromium but it is not on PATH")


def ensure_chromium() -> str:
    """The Chromium binary, installing it if needed and possible; pytest.skip otherwise."""
    path, why = _find_or_install()
    if path is None:
        pytest.skip(why)
    return path


def chromium(args: list[str], url: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Runs headless Chromium once on `url`, with a throwaway profile."""
    exe = ensure_chromium()
    with tempfile.TemporaryDirectory(prefix="explorer-chromium-") as profile:
        return subprocess.run(
            [exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, url],
            capture_output=True, text=True, timeout=timeout, check=False,
        )


def dump_dom(page: Path, fragment: str = "") -> str:
    """The page's DOM after its scripts ran."""
    run = chromium(["--dump-dom"], page.resolve().as_uri() + fragment)
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout


def screenshot(page: Path, png: Path, size: str = "1400,1000") -> None:
    png.parent.mkdir(parents=True, exist_ok=True)
    png.unlink(missing_ok=True)
    run = chromium([f"--screenshot={png.resolve()}", f"--window-size={size}"],
                   page.resolve().as_uri())
    assert run.returncode == 0 and png.exists(), run.stderr[-2000:]


def write_screenshot(path: Path = SCREENSHOT, mutant: str = DEFAULT_MUTANT) -> Path:
    """Screenshot of `mutant`'s counterexample page, drawn by headless Chromium."""
    g = from_outcome(check(mutant=mutant))
    with tempfile.TemporaryDirectory(prefix="explorer-html-") as tmp:
        page = Path(tmp) / "counterexample.html"
        export(g, page)
        screenshot(page, Path(path))
    return Path(path)


# -- the DOM ------------------------------------------------------------------------


class _Elements(HTMLParser):
    """Every start tag, with its attributes, in document order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))


def elements(dom: str) -> list[tuple[str, dict[str, str]]]:
    parser = _Elements()
    parser.feed(dom)
    parser.close()
    return parser.elements


def with_class(els: list[tuple[str, dict[str, str]]], name: str) -> list[dict[str, str]]:
    return [a for _t, a in els if name in a.get("class", "").split()]


def steps_of(g: nx.MultiDiGraph) -> list[str]:
    return sorted(
        (n for n, d in g.nodes(data=True) if d["kind"] == "step"),
        key=lambda n: g.nodes[n]["index"],
    )


# -- tests --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pages(tmp_path_factory, run_check) -> dict[str, tuple[nx.MultiDiGraph, Path]]:
    """Each mutant's graph and its exported page."""
    out = tmp_path_factory.mktemp("html")
    result = {}
    for m in MUTANTS:
        g = from_outcome(run_check(mutant=m))
        page = out / f"{m}.html"
        export(g, page)
        result[m] = (g, page)
    return result


def test_html_is_an_export_format():
    assert ".html" in FORMATS
    graph_mod.check_format("x.HTML")


@pytest.mark.parametrize("mutant", MUTANTS)
def test_page_is_self_contained(pages, mutant):
    g, page = pages[mutant]
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    lowered = text.lower()
    for bad in ("http://", "https://", "//cdn", "<link", "<img", "<iframe", "@import", "url(http"):
        assert bad not in lowered, bad
    assert not re.search(r"""\bsrc\s*=""", lowered)
    assert g.graph["property"] and g.graph["property"] in text
    assert g.graph["property_description"] in text
    assert "<script" in text and "</script>" in text


def test_script_json_cannot_break_out():
    g = nx.MultiDiGraph()
    evil = "</script><script>alert(1)</script><!-- \u2028 & '\""
    g.graph.update(model="m</script>", threads=["t"], property=evil,
                   property_description=evil, property_detail="", violating_node="e1",
                   blocked=[], schedule=[])
    g.add_node("e1", kind="step", index=1, event=1, thread="t", operation="op", args="",
               step=evil, line="f.c:1", code=evil, reads={"x": evil}, writes={}, locals={},
               chosen=None, fused=False, tags=[], violating=True)
    text = to_html(g, KINDS)
    body = text.split('<script type="application/json" id="graph-data">', 1)[1]
    data_part = body.split("</script>", 1)[0]
    assert "<" not in data_part and ">" not in data_part and "\u2028" not in data_part
    assert "m&lt;/script&gt;" in text.split("</title>")[0]


@pytest.mark.parametrize("mutant", MUTANTS)
def test_browser_draws_the_counterexample(pages, mutant):
    g, page = pages[mutant]
    els = elements(dump_dom(page))
    steps = steps_of(g)

    boxes = with_class(els, "event")
    assert [b["data-node"] for b in boxes] == steps
    for b in boxes:
        assert b["data-thread"] == g.nodes[b["data-node"]]["thread"]
    inits = [n for n, d in g.nodes(data=True) if d["kind"] == "init"]
    assert sorted(a["data-node"] for a in with_class(els, "init")) == sorted(inits)
    # Shown at first: the initial values an arrow that explains the violation starts at.
    feeding = {u for u, _v, d in g.edges(data=True) if d["focus"]}
    shown_inits = [a["data-node"] for a in with_class(els, "init")
                   if "hidden" not in a["class"].split()]
    assert sorted(shown_inits) == sorted(n for n in inits if n in feeding)

    bad = g.graph["violating_node"]
    assert bad is not None
    marked = [b for b in boxes if b.get("id") == "violating"]
    assert [b["data-node"] for b in marked] == [bad]
    assert [b["data-node"] for b in with_class(els, "violating")] == [bad]

    lanes = [a["data-lane"] for _t, a in els if "lane-title" in a.get("class", "").split()
             and "data-lane" in a]
    assert lanes == [lane["title"] for lane in g.graph["lanes"]]
    ran = {d["thread"] for _n, d in g.nodes(data=True) if d["kind"] == "step"}
    assert {t for lane in g.graph["lanes"] for t in lane["threads"]} == ran

    kinds = Counter(d["kind"] for _u, _v, d in g.edges(data=True))
    assert {"po", "rf"} <= set(kinds)
    drawn = with_class(els, "edge")
    for kind in KINDS:
        mine = with_class(els, f"kind-{kind}")
        assert len(mine) == kinds.get(kind, 0), kind
        assert all(a["data-kind"] == kind for a in mine)
    assert len(drawn) == g.number_of_edges()
    pairs = Counter((d["kind"], u, v) for u, v, d in g.edges(data=True))
    assert Counter((a["data-kind"], a["data-from"], a["data-to"]) for a in drawn) == pairs
    # Shown at first: only the edges that explain the violation, fewer than all.
    focus = Counter((d["kind"], u, v) for u, v, d in g.edges(data=True) if d["focus"])
    shown = Counter((a["data-kind"], a["data-from"], a["data-to"]) for a in drawn
                    if "hidden" not in a["class"].split())
    assert shown == focus and 0 < sum(focus.values()) < g.number_of_edges()
    assert [a["id"] for a in with_class(els, "window")] == (
        ["window"] if g.graph["window_node"] else [])

    for kind in KINDS:
        box = [a for t, a in els if t == "input" and a.get("id") == f"toggle-{kind}"]
        assert len(box) == 1 and box[0]["type"] == "checkbox"
        assert box[0]["data-shown"] == "true"
    focus = [a for t, a in els if t == "input" and a.get("id") == "toggle-focus"]
    assert len(focus) == 1 and focus[0]["data-shown"] == "true"


def test_toggles_hide_edges_of_their_kind(pages):
    """With "only what explains the violation" off, every edge of a kind still on shows."""
    g, page = pages[DEFAULT_MUTANT]
    els = elements(dump_dom(page, "#hide=rf,co,focus"))
    for kind in KINDS:
        shown = next(a for t, a in els if t == "input" and a.get("id") == f"toggle-{kind}")
        hidden = kind in ("rf", "co")
        assert shown["data-shown"] == ("false" if hidden else "true"), kind
        for e in with_class(els, f"kind-{kind}"):
            assert ("hidden" in e["class"].split()) == hidden, (kind, e)
    assert with_class(els, "kind-rf") and with_class(els, "kind-po")


TSO_CASES = [("no-mb-in-read-lock", "impl"), ("check-before-lock", "abstract")]


@pytest.mark.parametrize("mutant, srcu", TSO_CASES)
def test_weak_memory_page_defaults_to_the_edges_that_explain(tmp_path, mutant, srcu):
    """A TSO counterexample's page: its data holds every edge and the store buffers'
    bookkeeping, but shows at first only the edges that explain the violation, no
    initial value of the bookkeeping, and each CPU's flushes next to its thread."""
    o = check(mutant=mutant, srcu=srcu, memory_model="tso")
    g = from_outcome(o)
    page = tmp_path / "tso.html"
    export(g, page)
    text = page.read_text(encoding="utf-8")
    raw = text.split('<script type="application/json" id="graph-data">', 1)[1]
    data = json.loads(raw.split("</script>", 1)[0])
    edges, nodes = data["edges"], {n["id"]: n for n in data["nodes"]}
    assert len(edges) == g.number_of_edges()
    focus = [e for e in edges if e["focus"]]
    assert 0 < len(focus) <= len(edges) // 2
    assert not [e for e in focus if e["internal"]]
    internal_inits = [n for n in nodes.values() if n["kind"] == "init" and n["internal"]]
    assert internal_inits and all(n["location"].startswith("sb.") for n in internal_inits)
    # what the violating and the window-opening step read (but a ghost's initial value)
    for key in (g.graph["violating_node"], g.graph["window_node"]):
        assert key is not None
        into = [e for e in edges if e["to"] == key and e["kind"] == "rf"
                and not e["internal"] and not nodes[e["from"]].get("ghost")]
        assert all(e["focus"] for e in into)
        assert into or key == g.graph["window_node"]
    # each store-buffer lane right after the lane of its CPU's thread
    lanes = g.graph["lanes"]
    for k, lane in enumerate(lanes):
        if lane["buffer"]:
            cpu = lane["title"].removesuffix("'s store buffer")
            assert k > 0 and lanes[k - 1]["threads"] == [cpu], lanes
            assert all(t.startswith(f"flush.{cpu}.") for t in lane["threads"])
    assert [lane["title"] for lane in lanes if not lane["buffer"]] == [
        t for t in g.graph["threads"] if any(d.get("thread") == t for _n, d in g.nodes(data=True))
        and not t.startswith("flush.")]

    els = elements(dump_dom(page))
    shown = [a for a in with_class(els, "edge") if "hidden" not in a["class"].split()]
    assert len(shown) == len(focus)
    visible_inits = [a for a in with_class(els, "init") if "hidden" not in a["class"].split()]
    assert visible_inits and not [a for a in visible_inits if a["data-location"].startswith("sb.")]
    svg = next(a for t, a in els if t == "svg")
    assert int(float(svg["width"])) <= 1400  # the columns fit a 1400-pixel window
    count = next(a for a in els if a[1].get("id") == "shown-count")[1]
    assert int(count["data-shown"]) == len(focus)
    # one click away: everything, bookkeeping included
    every = elements(dump_dom(page, "#hide=focus&show=internal"))
    assert not [a for a in with_class(every, "edge") if "hidden" in a["class"].split()]
    assert not [a for a in with_class(every, "init") if "hidden" in a["class"].split()]


def test_deadlock_page_lists_blocked_threads(tmp_path, run_check):
    g = from_outcome(run_check(model="srcu", scenario="self-deadlock"))
    page = tmp_path / "deadlock.html"
    export(g, page)
    assert g.graph["blocked"]
    dom = dump_dom(page)
    els = elements(dom)
    stuck = sorted(a["data-thread"] for a in with_class(els, "blocked") if "data-thread" in a)
    assert stuck == sorted(b["thread"] for b in g.graph["blocked"])
    assert not with_class(els, "violating")
    assert "Blocked threads" in dom


def test_screenshot_of_default_counterexample(tmp_path):
    png = write_screenshot(tmp_path / "counterexample.png")
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 10_000


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else SCREENSHOT
    print(write_screenshot(target))
