
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("graph-data").textContent);
  var G = data.graph, KINDS = data.kinds, COLOURS = data.colours;
  var svg = document.getElementById("canvas");
  var NS = svg.namespaceURI;  /* the SVG namespace, without spelling out its URL */

  function el(tag, attrs, parent) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function sv(tag, attrs, parent) {
    var e = document.createElementNS(NS, tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function txt(parent, tag, text, attrs) {
    var e = el(tag, attrs || {}, parent);
    e.textContent = text;
    return e;
  }
  function clip(s, n) {
    s = String(s == null ? "" : s);
    return s.length > n ? s.slice(0, n - 1) + "\u2026" : s;
  }
  function base(path) {
    path = String(path || "");
    return path.slice(path.lastIndexOf("/") + 1);
  }
  function entries(obj) {
    return Object.keys(obj || {}).map(function (k) { return [k, obj[k]]; });
  }

  /* ---- header: model, property, description, blocked threads ---- */
  var header = document.getElementById("header");
  txt(header, "h1", "Counterexample in model " + (G.model || "?"));
  var prop = el("div", {"class": "property", id: "property"}, header);
  if (G.property) {
    prop.appendChild(document.createTextNode("Property violated: "));
    txt(prop, "span", G.property, {"class": "name"});
  } else {
    prop.textContent = "No property violated (execution graph of a schedule)";
  }
  if (G.property_description) txt(header, "div", G.property_description, {"class": "description"});
  if (G.property_detail) txt(header, "div", G.property_detail, {"class": "detail"});
  if (G.blocked && G.blocked.length) {
    txt(header, "div", "Blocked threads (deadlock):");
    var ul = el("ul", {"class": "blocked"}, header);
    G.blocked.forEach(function (b) {
      txt(ul, "li", b.thread + " at " + b.step + " (" + b.line + "), waiting for " + b.waits_for);
    });
  }

  /* ---- controls: one checkbox per kind ---- */
  var counts = {};
  KINDS.forEach(function (k) { counts[k] = 0; });
  data.edges.forEach(function (e) { counts[e.kind] = (counts[e.kind] || 0) + 1; });
  var controls = document.getElementById("controls");
  txt(controls, "span", "Relations: ");
  KINDS.forEach(function (k) {
    var lab = el("label", {"for": "toggle-" + k, title: data.descriptions[k] || k}, controls);
    var box = el("input", {type: "checkbox", id: "toggle-" + k, "data-kind": k,
      "class": "toggle"}, lab);
    box.checked = true;
    box.addEventListener("change", function () {
      var on = box.checked;
      svg.querySelectorAll(".edge.kind-" + k).forEach(function (e) {
        e.classList.toggle("hidden", !on);
      });
      box.setAttribute("data-shown", on ? "true" : "false");
    });
    box.setAttribute("data-shown", "true");
    var dash = {co: "dashed", fr: "dashed", hb: "dotted"}[k] || "solid";
    el("span", {"class": "swatch",
      style: "border-top-style: " + dash + "; border-top-color: " + COLOURS[k]}, lab);
    lab.appendChild(document.createTextNode(k + " (" + counts[k] + ")"));
  });
  txt(controls, "span", "hover a step or an arrow for its values", {"class": "hint"});

  /* ---- layout ---- */
  var threads = (G.threads || []).slice();
  var steps = data.nodes.filter(function (n) { return n.kind === "step"; });
  var inits = data.nodes.filter(function (n) { return n.kind === "init"; });
  steps.forEach(function (n) { if (threads.indexOf(n.thread) < 0) threads.push(n.thread); });
  var BOX_W = 240, BOX_H = 50, ROW = 68, GAP = 30, TOP = 40, PAD = 10;
  var INIT_W = inits.length ? 200 : 0, INIT_H = 32, INIT_ROW = 42;
  var left = PAD + (INIT_W ? INIT_W + 30 : 0);
  var nRows = steps.length ? steps[steps.length - 1].index : 0;
  var laneH = Math.max(nRows * ROW, inits.length * INIT_ROW) + 20;
  var width = left + threads.length * (BOX_W + GAP) + 20;
  var blockedBy = {};
  (G.blocked || []).forEach(function (b) { blockedBy[b.thread] = b; });
  var height = TOP + laneH + (G.blocked && G.blocked.length ? ROW : 0) + PAD;
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  svg.setAttribute("viewBox", "0 0 " + width + " " + height);

  var defs = sv("defs", {}, svg);
  KINDS.forEach(function (k) {
    var m = sv("marker", {id: "arrow-" + k, viewBox: "0 0 10 10", refX: "9", refY: "5",
      markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse"}, defs);
    sv("path", {d: "M0,0 L10,5 L0,10 z", fill: COLOURS[k]}, m);
  });

  var lanes = sv("g", {id: "lanes"}, svg);
  var pos = {};  /* node id -> {x, y, w, h, col} */
  if (INIT_W) {
    sv("rect", {"class": "lane", x: PAD - 4, y: TOP - 30, width: INIT_W + 8, height: laneH + 30,
      rx: 4}, lanes);
    var it = sv("text", {"class": "lane-title", x: PAD + INIT_W / 2, y: TOP - 12,
      "text-anchor": "middle"}, lanes);
    it.textContent = "initial values";
  }
  threads.forEach(function (t, i) {
    var x = left + i * (BOX_W + GAP);
    sv("rect", {"class": "lane", x: x - 8, y: TOP - 30, width: BOX_W + 16, height: laneH + 30 +
      (blockedBy[t] ? ROW : 0), rx: 4, "data-thread": t}, lanes);
    var tt = sv("text", {"class": "lane-title thread-name", x: x + BOX_W / 2, y: TOP - 12,
      "text-anchor": "middle", "data-thread": t}, lanes);
    tt.textContent = t;
  });

  var edgeLayer = sv("g", {id: "edges"}, svg);
  var nodeLayer = sv("g", {id: "nodes"}, svg);
  var tip = document.getElementById("tooltip");

  function showTip(ev, build) {
    tip.innerHTML = "";
    build(tip);
    tip.hidden = false;
    moveTip(ev);
  }
  function moveTip(ev) {
    var x = ev.pageX + 14, y = ev.pageY + 14;
    var w = tip.offsetWidth, vw = window.scrollX + document.documentElement.clientWidth;
    if (x + w > vw) x = Math.max(0, ev.pageX - w - 14);
    tip.style.left = x + "px";
    tip.style.top = y + "px";
  }
  function hideTip() { tip.hidden = true; }
  function hover(target, build) {
    target.addEventListener("mouseenter", function (ev) { showTip(ev, build); });
    target.addEventListener("mousemove", moveTip);
    target.addEventListener("mouseleave", hideTip);
  }
  function table(parent, title, obj) {
    var rows = entries(obj);
    if (!rows.length) return;
    txt(parent, "div", title, {"class": "t-sec"});
    var tb = el("table", {}, parent);
    rows.forEach(function (r) {
      var tr = el("tr", {}, tb);
      txt(tr, "td", r[0]);
      txt(tr, "td", String(r[1]));
    });
  }
  function plainText(n) {
    var lines = [n.index + ". " + n.thread + ": " + n.step + " (" + n.line + ")", n.code];
    [["reads", n.reads], ["writes", n.writes], ["locals", n.locals]].forEach(function (p) {
      var r = entries(p[1]);
      var shown = r.map(function (x) { return x[0] + "=" + x[1]; });
      if (r.length) lines.push(p[0] + ": " + shown.join(", "));
    });
    return lines.join("\n");
  }

  inits.forEach(function (n, k) {
    var x = PAD, y = TOP + k * INIT_ROW;
    pos[n.id] = {x: x, y: y, w: INIT_W, h: INIT_H, col: -1};
    var g = sv("g", {"class": "init", "data-node": n.id, "data-location": n.location}, nodeLayer);
    sv("title", {}, g).textContent = "initial value of " + n.location + " = " + n.value;
    sv("rect", {x: x, y: y, width: INIT_W, height: INIT_H, rx: 10}, g);
    var t = sv("text", {x: x + 8, y: y + 20}, g);
    t.textContent = clip(n.location + " = " + n.value, 28);
    hover(g, function (d) {
      txt(d, "div", "initial value", {"class": "t-head"});
      table(d, "", (function () { var o = {}; o[n.location] = n.value; return o; })());
    });
  });

  steps.forEach(function (n) {
    var col = threads.indexOf(n.thread);
    var x = left + col * (BOX_W + GAP), y = TOP + (n.index - 1) * ROW;
    pos[n.id] = {x: x, y: y, w: BOX_W, h: BOX_H, col: col};
    var bad = n.id === G.violating_node || n.violating;
    var cls = "event" + (bad ? " violating" : "") + (n.fused ? " fused" : "");
    var attrs = {"class": cls, "data-node": n.id, "data-thread": n.thread, "data-index": n.index,
      "data-step": n.step};
    if (bad) attrs.id = "violating";
    var g = sv("g", attrs, nodeLayer);
    sv("title", {}, g).textContent = plainText(n);
    sv("rect", {x: x, y: y, width: BOX_W, height: BOX_H, rx: 4}, g);
    var t1 = sv("text", {"class": "label", x: x + 7, y: y + 15}, g);
    t1.textContent = clip(n.index + ". " + n.step, 35);
    var t2 = sv("text", {"class": "where", x: x + 7, y: y + 29}, g);
    var what = n.fused ? "(fused with previous)" : n.operation + "(" + n.args + ")";
    t2.textContent = clip(base(n.line) + "  " + what, 36);
    var t3 = sv("text", {"class": "code", x: x + 7, y: y + 43}, g);
    t3.textContent = clip(n.code, 36);
    if (bad) {
      var mark = sv("text", {"class": "violating-mark", x: x + 2, y: y + BOX_H + 13}, g);
      mark.textContent = clip("\u2717 makes " + (G.property || "the property") + " false", 38);
    }
    hover(g, function (d) {
      var why = bad ? "  \u2014 makes " + G.property + " false" : "";
      txt(d, "div", n.index + ". " + n.thread + ": " + n.step + why, {"class": "t-head"});
      txt(d, "div", n.operation + "(" + n.args + ")  " + n.line);
      txt(d, "pre", n.code || "");
      table(d, "reads", n.reads);
      table(d, "writes", n.writes);
      table(d, "locals", n.locals);
      if (n.tags && n.tags.length) txt(d, "div", "tags: " + n.tags.join(", "), {"class": "t-sec"});
      if (n.chosen != null) txt(d, "div", "chosen: " + n.chosen, {"class": "t-sec"});
    });
  });

  threads.forEach(function (t, i) {
    var b = blockedBy[t];
    if (!b) return;
    var x = left + i * (BOX_W + GAP), y = TOP + laneH;
    var g = sv("g", {"class": "blocked", "data-thread": t}, nodeLayer);
    sv("title", {}, g).textContent =
      t + " blocked at " + b.step + " (" + b.line + "): " + b.waits_for;
    sv("rect", {x: x, y: y, width: BOX_W, height: BOX_H, rx: 4}, g);
    sv("text", {x: x + 7, y: y + 15, "font-weight": "bold"}, g).textContent =
      clip("blocked: " + b.step, 36);
    sv("text", {x: x + 7, y: y + 29}, g).textContent = clip(base(b.line), 37);
    sv("text", {x: x + 7, y: y + 43}, g).textContent = clip("waits for " + b.waits_for, 37);
  });

  /* ---- edges ---- */
  function curve(x1, y1, cx1, cy1, cx2, cy2, x2, y2) {
    return "M" + x1 + "," + y1 + " C" + cx1 + "," + cy1 + " " + cx2 + "," + cy2 + " " +
      x2 + "," + y2;
  }
  var pairSeen = {};
  data.edges.forEach(function (e) {
    var a = pos[e.from], b = pos[e.to];
    if (!a || !b) return;
    var pk = e.from + ">" + e.to;
    var k = pairSeen[pk] = (pairSeen[pk] === undefined ? 0 : pairSeen[pk] + 1);
    var off = k * 7, d;
    if (a.col === b.col && e.kind === "po") {
      var cx = a.x + 24 + off;
      d = "M" + cx + "," + (a.y + a.h) + " L" + cx + "," + b.y;
    } else if (a.col === b.col) {  /* same lane: an arc on the right */
      var rx = a.x + a.w, y1 = a.y + a.h / 2 + off - 6, y2 = b.y + b.h / 2 + off - 6;
      var bulge = 22 + Math.min(40, Math.abs(y2 - y1) / 8) + off;
      d = curve(rx, y1, rx + bulge, y1, rx + bulge, y2, rx, y2);
    } else {
      var rightward = b.x > a.x;
      var x1 = rightward ? a.x + a.w : a.x, x2 = rightward ? b.x : b.x + b.w;
      var ya = a.y + a.h / 2 + off - 6, yb = b.y + b.h / 2 + off - 6;
      var dx = Math.max(30, Math.abs(x2 - x1) / 3) * (rightward ? 1 : -1);
      d = curve(x1, ya, x1 + dx, ya, x2 - dx, yb, x2, yb);
    }
    var label = e.kind + (e.location ? " " + e.location : "") +
      (e.value != null ? " = " + e.value : "");
    if (e.kind === "gp") {
      label = "gp " + (e.domain || "") + (e.waited ? " (waited)" : " (did not wait)");
    }
    var g = sv("g", {"class": "edge kind-" + e.kind, "data-kind": e.kind, "data-from": e.from,
      "data-to": e.to, "data-key": e.key}, edgeLayer);
    sv("title", {}, g).textContent = label + "  [" + e.from + " \u2192 " + e.to + "]";
    sv("path", {"class": "hit", d: d}, g);
    sv("path", {"class": "line", d: d, stroke: COLOURS[e.kind] || "#000",
      "marker-end": "url(#arrow-" + e.kind + ")"}, g);
    hover(g, function (dv) {
      var name = data.descriptions[e.kind] || e.kind;
      txt(dv, "div", name + ": " + e.from + " \u2192 " + e.to, {"class": "t-head"});
      var info = {};
      ["location", "value", "domain", "waited"].forEach(function (f) {
        if (e[f] != null) info[f] = e[f];
      });
      table(dv, "", info);
    });
  });

  /* ---- "#hide=co,fr" in the URL: untick those kinds (as a click would) ---- */
  var m = /(?:^#|&)hide=([^&]*)/.exec(window.location.hash || "");
  if (m) decodeURIComponent(m[1]).split(",").forEach(function (k) {
    var box = document.getElementById("toggle-" + k.trim());
    if (box && box.checked) box.click();
  });
  document.body.setAttribute("data-ready", "true");
})();
