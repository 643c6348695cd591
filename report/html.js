// vrrpctl's report: views of the ladder, findings that mark their frames.
// It reads the page only; the analysis is in #vrrpctl-analysis for other
// programs.
(function () {
  "use strict";
  var $ = function (sel, root) { return (root || document).querySelector(sel); };
  var $$ = function (sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); };

  function current() { return $(".view:not([hidden])"); }

  function show(id) {
    var target = document.getElementById(id);
    if (!target) { return null; }
    $$(".view").forEach(function (v) { v.hidden = v !== target; });
    $$(".tab").forEach(function (t) { t.setAttribute("aria-selected", String(t.dataset.view === id)); });
    return target;
  }

  // y of a time (ms from the capture's start) in a view's SVG.
  function yOf(svg, t) {
    var segs = JSON.parse(svg.dataset.scale || "[]");
    if (!segs.length) { return 0; }
    if (t <= segs[0][0]) { return segs[0][2]; }
    for (var i = 0; i < segs.length; i++) {
      var s = segs[i];
      if (t <= s[1]) {
        var span = s[1] - s[0];
        return span > 0 ? s[2] + (s[3] - s[2]) * (t - s[0]) / span : s[2];
      }
    }
    return segs[segs.length - 1][3];
  }

  // scrollToY brings the point y of an SVG to the middle of the window.
  function scrollToY(svg, y) {
    var box = svg.getBoundingClientRect();
    var vb = svg.viewBox.baseVal;
    var scale = vb && vb.height ? box.height / vb.height : 1;
    window.scrollTo({ top: window.scrollY + box.top + y * scale - window.innerHeight / 2, behavior: "auto" });
  }

  function clearMarks() {
    $$(".hl").forEach(function (e) { e.classList.remove("hl"); });
    $$(".finding-mark").forEach(function (m) { m.setAttribute("visibility", "hidden"); });
    $$(".finding[aria-pressed=true], .frame[aria-pressed=true]").forEach(function (c) { c.setAttribute("aria-pressed", "false"); });
  }

  // Elements of a view that stand for any of the frames, or (spans: a
  // client's stale period, its unanswered requests) that hold the time.
  function matches(view, frames, t, vrid, vlan) {
    var out = [];
    $$("[data-f0]", view).forEach(function (e) {
      var f0 = +e.dataset.f0, f1 = +e.dataset.f1;
      for (var i = 0; i < frames.length; i++) {
        if (frames[i] >= f0 && frames[i] <= f1) { out.push(e); return; }
      }
    });
    if (t !== null) {
      $$(".stale-bar-g[data-span], .outage-bar-g[data-span]", view).forEach(function (e) {
        if (out.indexOf(e) >= 0) { return; }
        if (+e.dataset.vrid === vrid && +e.dataset.vlan === vlan && t >= +e.dataset.t0 - 0.001 && t <= +e.dataset.t1 + 0.001) { out.push(e); }
      });
    }
    return out;
  }

  // select marks what a finding (or one of its frames) points at: in the
  // view on show when it has any, else the first view that does.
  function select(frames, t, vrid, vlan, label, card) {
    clearMarks();
    var views = $$(".view");
    var view = current();
    var found = view ? matches(view, frames, t, vrid, vlan) : [];
    if (!found.length) {
      for (var i = 0; i < views.length && !found.length; i++) {
        found = matches(views[i], frames, t, vrid, vlan);
        if (found.length) { view = views[i]; }
      }
    }
    if (!view) { return; }
    show(view.id);
    found.forEach(function (e) { e.classList.add("hl"); });
    if (card) { card.setAttribute("aria-pressed", "true"); }
    var svg = $("svg.ladder", view);
    if (!svg) { return; }
    var y = null;
    if (t !== null) {
      var mark = $(".finding-mark", svg);
      y = yOf(svg, t);
      mark.setAttribute("transform", "translate(0," + y + ")");
      $("text", mark).textContent = label;
      mark.setAttribute("visibility", "visible");
    }
    if (found.length) {
      var first = found[0].getBoundingClientRect();
      var box = svg.getBoundingClientRect();
      var vb = svg.viewBox.baseVal;
      var scale = vb && vb.height ? box.height / vb.height : 1;
      y = (first.top - box.top) / scale;
    }
    if (y !== null) { scrollToY(svg, y); }
  }

  function findingArgs(card) {
    var frames = (card.dataset.frames || "").split(",").filter(Boolean).map(Number);
    var t = card.dataset.t === "" || card.dataset.t === undefined ? null : +card.dataset.t;
    return [frames, t, +card.dataset.vrid, +card.dataset.vlan, card.dataset.code || ""];
  }

  $$(".finding").forEach(function (card) {
    function act(ev) {
      if (ev.target.closest("button.frame, details, summary")) { return; }
      if (card.getAttribute("aria-pressed") === "true") { clearMarks(); return; }
      var a = findingArgs(card);
      select(a[0], a[1], a[2], a[3], a[4], card);
    }
    card.addEventListener("click", act);
    card.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); act(ev); }
    });
  });
  $$(".evidence button.frame").forEach(function (b) {
    b.addEventListener("click", function () {
      var card = b.closest(".finding");
      var a = findingArgs(card);
      select([+b.dataset.frame], null, a[2], a[3], "#" + b.dataset.frame, null);
      b.setAttribute("aria-pressed", "true");
    });
  });

  // Tabs, close-up buttons and links, failover numbers on the strips.
  function goto(id) {
    var v = show(id);
    if (v) { v.scrollIntoView({ block: "start" }); }
  }
  $$(".tab").forEach(function (t) { t.addEventListener("click", function () { show(t.dataset.view); }); });
  $$("[data-view]").forEach(function (e) {
    if (e.classList.contains("tab") || e.classList.contains("view")) { return; }
    var open = function (ev) { ev.preventDefault(); ev.stopPropagation(); goto(e.dataset.view); };
    e.addEventListener("click", open);
    e.addEventListener("keydown", function (ev) { if (ev.key === "Enter" || ev.key === " ") { open(ev); } });
  });

  // A click on a strip shows that moment of the whole capture.
  $$("svg.strip").forEach(function (strip) {
    strip.addEventListener("click", function (ev) {
      var m = strip.getScreenCTM();
      if (!m) { return; }
      var pt = strip.createSVGPoint();
      pt.x = ev.clientX; pt.y = ev.clientY;
      var x = pt.matrixTransform(m.inverse()).x;
      var x0 = +strip.dataset.x0, x1 = +strip.dataset.x1;
      if (x < x0 || x > x1) { return; }
      var t = (x - x0) / (x1 - x0) * +strip.dataset.span;
      var view = show("view-overview");
      if (!view) { return; }
      var svg = $("svg.ladder", view);
      scrollToY(svg, yOf(svg, t));
    });
  });

  document.addEventListener("keydown", function (ev) { if (ev.key === "Escape") { clearMarks(); } });
  // A link to a view (report.html#view-failover-1) opens it.
  function fromHash() {
    var id = decodeURIComponent(location.hash.slice(1));
    if (id && document.getElementById(id) && document.getElementById(id).classList.contains("view")) { goto(id); }
  }
  window.addEventListener("hashchange", fromHash);
  fromHash();
  document.body.dataset.ready = "1";
})();
