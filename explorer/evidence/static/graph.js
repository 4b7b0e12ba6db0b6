
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

  /* ---- controls: one checkbox per kind, "explains the violation", bookkeeping ---- */
  var state = {kinds: {}, focus: true, internal: false};
  var anyFocusOff = data.edges.some(function (e) { return !e.focus && !e.internal; });
  var anyInternal = data.edges.some(function (e) { return e.internal; }) ||
    data.nodes.some(function (n) { return n.internal; });
  state.focus = anyFocusOff;  /* nothing to narrow down: show every edge */
  var counts = {};
  KINDS.forEach(function (k) { counts[k] = 0; state.kinds[k] = true; });
  data.edges.forEach(function (e) { counts[e.kind] = (counts[e.kind] || 0) + 1; });
  var controls = document.getElementById("controls");
  function toggle(id, title, on, onChange, extra) {
    var lab = el("label", {"for": "toggle-" + id, title: title}, controls);
    var box = el("input", {type: "checkbox", id: "toggle-" + id, "class": "toggle"}, lab);
    for (var k in extra || {}) box.setAttribute(k, extra[k]);
    box.checked = on;
    box.setAttribute("data-shown", on ? "true" : "false");
    box.addEventListener("change", function () {
      box.setAttribute("data-shown", box.checked ? "true" : "false");
      onChange(box.checked);
      draw();
    });
    return lab;
  }
  if (anyFocusOff) {
    toggle("focus", "only the arrows that explain the violation: program order of the " +
      "threads involved, what the violating and the window-opening step read, the races " +
      "that decided it", state.focus, function (on) { state.focus = on; })
      .appendChild(document.createTextNode("only what explains the violation"));
  }
  txt(controls, "span", "Relations: ");
  KINDS.forEach(function (k) {
    var lab = toggle(k, data.descriptions[k] || k, true,
      function (on) { state.kinds[k] = on; }, {"data-kind": k});
    var dash = {co: "dashed", fr: "dashed", sb: "dashed", hb: "dotted"}[k] || "solid";
    el("span", {"class": "swatch",
      style: "border-top-style: " + dash + "; border-top-color: " + COLOURS[k]}, lab);
    lab.appendChild(document.createTextNode(k + " (" + counts[k] + ")"));
  });
  if (anyInternal) {
    toggle("internal", "the store buffers' bookkeeping (sb.*: counts of stores issued " +
      "and flushed) and its initial values", false, function (on) { state.internal = on; })
      .appendChild(document.createTextNode("store-buffer bookkeeping"));
  }
  var shownCount = txt(controls, "span", "", {"class": "hint", id: "shown-count"});
  txt(controls, "span", "hover a step or an arrow for its values", {"class": "hint"});

  function edgeShown(e) {
    return state.kinds[e.kind] !== false && (!state.focus || e.focus) &&
      (state.internal || !e.internal);
  }

  /* ---- layout: a lane per thread that ran, its CPU's store buffer next to it ---- */
  var steps = data.nodes.filter(function (n) { return n.kind === "step"; });
  var inits = data.nodes.filter(function (n) { return n.kind === "init"; });
  var blockedBy = {};
  (G.blocked || []).forEach(function (b) { blockedBy[b.thread] = b; });
  var lanes = (G.lanes || []).map(function (l) { return l; });
  if (!lanes.length) {
    (G.threads || []).forEach(function (t) {
      lanes.push({title: t, threads: [t], buffer: false});
    });
  }
  var laneOf = {};
  lanes.forEach(function (l, i) { l.threads.forEach(function (t) { laneOf[t] = i; }); });
  steps.forEach(function (n) {
    if (laneOf[n.thread] === undefined) {
      laneOf[n.thread] = lanes.length;
      lanes.push({title: n.thread, threads: [n.thread], buffer: false});
    }
  });
  var BOX_W = 240, BUF_W = 190, BOX_H = 50, ROW = 68, GAP = 30, TOP = 40, PAD = 10;
  var INIT_FULL = 200, INIT_H = 32, INIT_ROW = 42;
  var nRows = steps.length ? steps[steps.length - 1].index : 0;
  var anyBlocked = G.blocked && G.blocked.length;
  var tip = document.getElementById("tooltip");

  var defs = sv("defs", {}, svg);
  KINDS.forEach(function (k) {
    var m = sv("marker", {id: "arrow-" + k, viewBox: "0 0 10 10", refX: "9", refY: "5",
      markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse"}, defs);
    sv("path", {d: "M0,0 L10,5 L0,10 z", fill: COLOURS[k]}, m);
  });
  var layer = sv("g", {id: "drawing"}, svg);

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
  function curve(x1, y1, cx1, cy1, cx2, cy2, x2, y2) {
    return "M" + x1 + "," + y1 + " C" + cx1 + "," + cy1 + " " + cx2 + "," + cy2 + " " +
      x2 + "," + y2;
  }

  /* Everything is drawn (hidden ones with class "hidden"), and drawn again on a click:
     the column of initial values holds only the boxes with a visible arrow. */
  function draw() {
    while (layer.firstChild) layer.removeChild(layer.firstChild);
    var visibleEdge = {}, fromShown = {};
    data.edges.forEach(function (e, i) {
      visibleEdge[i] = edgeShown(e);
      if (visibleEdge[i]) fromShown[e.from] = true;
    });
    var initShown = {};
    var shownInits = inits.filter(function (n) {
      initShown[n.id] = (state.internal || !n.internal) && !!fromShown[n.id];
      return initShown[n.id];
    });
    var INIT_W = shownInits.length ? INIT_FULL : 0;
    var left = PAD + (INIT_W ? INIT_W + 30 : 0);
    var laneX = [], x = left;
    lanes.forEach(function (l) {
      laneX.push(x);
      l.width = l.buffer ? BUF_W : BOX_W;
      x += l.width + GAP;
    });
    var laneH = Math.max(nRows * ROW, shownInits.length * INIT_ROW) + 20;
    var width = x + 20 - GAP;
    var height = TOP + laneH + (anyBlocked ? ROW : 0) + PAD;
    svg.setAttribute("width", width);
    svg.setAttribute("height", height);
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);

    var laneLayer = sv("g", {id: "lanes"}, layer);
    var edgeLayer = sv("g", {id: "edges"}, layer);
    var nodeLayer = sv("g", {id: "nodes"}, layer);
    var pos = {};  /* node id -> {x, y, w, h, col} */
    if (INIT_W) {
      sv("rect", {"class": "lane", x: PAD - 4, y: TOP - 30, width: INIT_W + 8,
        height: laneH + 30, rx: 4}, laneLayer);
      sv("text", {"class": "lane-title", x: PAD + INIT_W / 2, y: TOP - 12,
        "text-anchor": "middle"}, laneLayer).textContent = "initial values";
    }
    lanes.forEach(function (l, i) {
      var lx = laneX[i], stuck = l.threads.some(function (t) { return blockedBy[t]; });
      sv("rect", {"class": "lane" + (l.buffer ? " buffer" : ""), x: lx - 8, y: TOP - 30,
        width: l.width + 16, height: laneH + 30 + (stuck ? ROW : 0), rx: 4,
        "data-lane": l.title}, laneLayer);
      var tt = sv("text", {"class": "lane-title" + (l.buffer ? " buffer-name" : " thread-name"),
        x: lx + l.width / 2, y: TOP - 12, "text-anchor": "middle", "data-lane": l.title,
        "data-thread": l.threads.join(" ")}, laneLayer);
      tt.textContent = clip(l.title, l.buffer ? 28 : 34);
    });

    var k = 0;
    inits.forEach(function (n) {
      var shown = initShown[n.id];
      var ix = PAD, iy = TOP + (shown ? k++ : 0) * INIT_ROW;
      if (shown) pos[n.id] = {x: ix, y: iy, w: INIT_W, h: INIT_H, col: -1};
      var g = sv("g", {"class": "init" + (shown ? "" : " hidden") +
        (n.internal ? " internal" : ""), "data-node": n.id, "data-location": n.location},
        nodeLayer);
      sv("title", {}, g).textContent = "initial value of " + n.location + " = " + n.value;
      sv("rect", {x: ix, y: iy, width: INIT_FULL, height: INIT_H, rx: 10}, g);
      sv("text", {x: ix + 8, y: iy + 20}, g).textContent =
        clip(n.location + " = " + n.value, 28);
      hover(g, function (d) {
        txt(d, "div", "initial value", {"class": "t-head"});
        var o = {};
        o[n.location] = n.value;
        table(d, "", o);
      });
    });

    steps.forEach(function (n) {
      var col = laneOf[n.thread], l = lanes[col], w = l.width, chars = Math.floor(w / 6.7);
      var sx = laneX[col], sy = TOP + (n.index - 1) * ROW;
      pos[n.id] = {x: sx, y: sy, w: w, h: BOX_H, col: col};
      var bad = n.id === G.violating_node || n.violating;
      var opens = n.id === G.window_node;
      var cls = "event" + (bad ? " violating" : "") + (opens ? " window" : "") +
        (n.fused ? " fused" : "");
      var attrs = {"class": cls, "data-node": n.id, "data-thread": n.thread,
        "data-index": n.index, "data-step": n.step};
      if (bad) attrs.id = "violating";
      else if (opens) attrs.id = "window";
      var g = sv("g", attrs, nodeLayer);
      sv("title", {}, g).textContent = plainText(n);
      sv("rect", {x: sx, y: sy, width: w, height: BOX_H, rx: 4}, g);
      /* A flush names the location it makes visible (its tag mem.flush:CPU:LOCATION). */
      var flushed = (n.tags || []).filter(function (t) { return t.indexOf("mem.flush:") === 0; })
        .map(function (t) { return t.split(":").slice(2).join(":"); });
      var label = flushed.length ? n.step + " " + flushed.join(", ") : n.step;
      sv("text", {"class": "label", x: sx + 7, y: sy + 15}, g).textContent =
        clip(n.index + ". " + label, chars - 1);
      var what = n.fused ? "(fused with previous)" : n.operation + "(" + n.args + ")";
      sv("text", {"class": "where", x: sx + 7, y: sy + 29}, g).textContent =
        clip(flushed.length ? "reaches memory" : base(n.line) + "  " + what, chars);
      sv("text", {"class": "code", x: sx + 7, y: sy + 43}, g).textContent = clip(
        flushed.length ? flushed.map(function (x) { return x + " = " + n.writes[x]; })
          .join(", ") : n.code, chars);
      if (bad) {
        sv("text", {"class": "violating-mark", x: sx + 2, y: sy + BOX_H + 13}, g)
          .textContent = clip("\u2717 makes " + (G.property || "the property") + " false", 46);
      } else if (opens) {
        sv("text", {"class": "window-mark", x: sx + 2, y: sy + BOX_H + 13}, g).textContent =
          clip("\u25b6 opens the window of " + (G.property || "the property"), 46);
      }
      hover(g, function (d) {
        var why = bad ? "  \u2014 makes " + G.property + " false" :
          opens ? "  \u2014 opens the window of " + G.property : "";
        txt(d, "div", n.index + ". " + n.thread + ": " + n.step + why, {"class": "t-head"});
        txt(d, "div", n.operation + "(" + n.args + ")  " + n.line);
        txt(d, "pre", n.code || "");
        table(d, "reads", n.reads);
        table(d, "writes", n.writes);
        table(d, "locals", n.locals);
        if (opens) table(d, "opens the window", n.opens_window);
        if (n.tags && n.tags.length) {
          txt(d, "div", "tags: " + n.tags.join(", "), {"class": "t-sec"});
        }
        if (n.chosen != null) txt(d, "div", "chosen: " + n.chosen, {"class": "t-sec"});
      });
    });

    lanes.forEach(function (l, i) {
      l.threads.forEach(function (t) {
        var b = blockedBy[t];
        if (!b) return;
        var bx = laneX[i], by = TOP + laneH;
        var g = sv("g", {"class": "blocked", "data-thread": t}, nodeLayer);
        sv("title", {}, g).textContent =
          t + " blocked at " + b.step + " (" + b.line + "): " + b.waits_for;
        sv("rect", {x: bx, y: by, width: l.width, height: BOX_H, rx: 4}, g);
        sv("text", {x: bx + 7, y: by + 15, "font-weight": "bold"}, g).textContent =
          clip("blocked: " + b.step, 36);
        sv("text", {x: bx + 7, y: by + 29}, g).textContent = clip(base(b.line), 37);
        sv("text", {x: bx + 7, y: by + 43}, g).textContent = clip("waits for " + b.waits_for, 37);
      });
    });

    var pairSeen = {}, nShown = 0;
    data.edges.forEach(function (e, i) {
      var a = pos[e.from], b = pos[e.to];
      var shown = visibleEdge[i] && a && b;
      if (shown) nShown++;
      a = a || {x: 0, y: 0, w: 0, h: 0, col: -2};
      b = b || {x: 0, y: 0, w: 0, h: 0, col: -3};
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
      var g = sv("g", {"class": "edge kind-" + e.kind + (shown ? "" : " hidden") +
        (e.focus ? " focus" : "") + (e.internal ? " internal" : ""), "data-kind": e.kind,
        "data-from": e.from, "data-to": e.to, "data-key": e.key}, edgeLayer);
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
    shownCount.textContent = "showing " + nShown + " of " + data.edges.length + " arrows";
    shownCount.setAttribute("data-shown", nShown);
  }
  draw();

  /* ---- "#hide=co,fr,focus&show=internal" in the URL: click those switches ---- */
  [["hide", false], ["show", true]].forEach(function (p) {
    var m = new RegExp("(?:^#|&)" + p[0] + "=([^&]*)").exec(window.location.hash || "");
    if (m) decodeURIComponent(m[1]).split(",").forEach(function (k) {
      var box = document.getElementById("toggle-" + k.trim());
      if (box && box.checked !== p[1]) box.click();
    });
  });
  document.body.setAttribute("data-ready", "true");
})();
