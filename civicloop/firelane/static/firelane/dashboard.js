/* 生命通道 dashboard: draws the charts (ECharts, served from our own static files) from
 * the data the page was rendered with, then keeps the live part current by polling
 * GET /api/v1/firelane/dashboard (the page's data-url). Every word shown comes from the
 * page (translated on the server); rows are built with textContent, never innerHTML.
 * Without this script the page still shows every figure as text and tables. */
(function () {
  "use strict";

  var root = document.querySelector("[data-dashboard]");
  if (!root) return;
  var data = JSON.parse(document.getElementById("fl-data").textContent);
  var L = JSON.parse(document.getElementById("fl-labels").textContent);
  var url = root.getAttribute("data-url");
  var livePoll = (parseInt(root.getAttribute("data-live-poll"), 10) || 10) * 1000;
  var chartsPoll = (parseInt(root.getAttribute("data-charts-poll"), 10) || 300) * 1000;
  var charts = {};
  var COLORS = ["#0b4a8b", "#f0a500", "#b3261e", "#1d6b34", "#6b4aa8"];
  // The shell's CJK font stack, so the canvas draws the same characters as the page.
  var FONT = window.getComputedStyle(document.body).fontFamily || "sans-serif";
  var reduceMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  function pick(obj, path) {
    return path.split(".").reduce(function (o, k) { return o == null ? o : o[k]; }, obj);
  }

  function withQuery(extra) {
    return url + (url.indexOf("?") >= 0 ? "&" : "?") + extra;
  }

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  // ------------------------------------------------------------------ charts

  function chart(id) {
    var node = document.getElementById(id);
    if (!node || !window.echarts) return null;
    if (!charts[id]) {
      charts[id] = window.echarts.init(node, null, { renderer: "canvas" });
      charts[id].setOption({ animation: !reduceMotion, textStyle: { fontFamily: FONT } });
    }
    return charts[id];
  }

  function shortDay(iso) { return iso.slice(5); }

  // Room at the top for the legend and, under it, the axis name (they overlap on a phone).
  var baseGrid = { left: 8, right: 16, top: 60, bottom: 8, containLabel: true };
  var legend = { top: 0, type: "scroll" };

  function drawDays(d) {
    var c = chart("chart-days");
    if (!c) return;
    var x = d.days.map(function (r) { return shortDay(r.day); });
    function col(key) { return d.days.map(function (r) { return r[key]; }); }
    c.setOption({
      color: COLORS,
      tooltip: { trigger: "axis" },
      legend: legend,
      grid: baseGrid,
      xAxis: { type: "category", data: x },
      yAxis: { type: "value", minInterval: 1, name: L.times },
      series: [
        { name: L.stays, type: "bar", data: col("stays") },
        { name: L.warnings, type: "bar", data: col("warnings") },
        { name: L.notices, type: "line", data: col("notices") },
        { name: L.paid, type: "line", data: col("paid") }
      ]
    });
  }

  function drawResponse(d) {
    var c = chart("chart-response");
    if (!c) return;
    var rows = d.response.days;
    function col(part, key) { return rows.map(function (r) { return r[part][key]; }); }
    c.setOption({
      color: COLORS,
      tooltip: { trigger: "axis" },
      legend: legend,
      grid: baseGrid,
      xAxis: { type: "category", data: rows.map(function (r) { return shortDay(r.day); }) },
      yAxis: { type: "value", name: L.minutes },
      series: [
        { name: L.warn_p50, type: "line", data: col("warn", "p50_min"), connectNulls: true },
        { name: L.warn_p90, type: "line", data: col("warn", "p90_min"), connectNulls: true,
          lineStyle: { type: "dashed" } },
        { name: L.move_p50, type: "line", data: col("move", "p50_min"), connectNulls: true },
        { name: L.move_p90, type: "line", data: col("move", "p90_min"), connectNulls: true,
          lineStyle: { type: "dashed" } }
      ]
    });
  }

  function drawRepeat(d) {
    var c = chart("chart-repeat");
    if (!c) return;
    var rows = d.repeat.slice().reverse(); // the most stays on top
    c.setOption({
      color: COLORS,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: legend,
      grid: baseGrid,
      xAxis: { type: "value", minInterval: 1, name: L.times },
      yAxis: { type: "category", data: rows.map(function (r) { return r.plate; }) },
      series: [
        { name: L.stays, type: "bar", data: rows.map(function (r) { return r.stays; }) },
        { name: L.warned, type: "bar", data: rows.map(function (r) { return r.warned; }) }
      ]
    });
  }

  function drawCameras(live) {
    var c = chart("chart-cameras");
    if (!c) return;
    var cams = live.cameras;
    var counts = {};
    counts[L.online] = cams.online;
    counts[L.offline] = cams.offline;
    counts[L.disabled] = cams.disabled;
    c.setOption({
      color: ["#1d9b45", "#b3261e", "#8a94a6"],
      tooltip: { trigger: "item" },
      legend: {
        orient: "vertical", left: 0, top: "middle",
        formatter: function (name) { return name + "  " + counts[name]; }
      },
      series: [{
        type: "pie",
        radius: ["42%", "72%"],
        center: ["62%", "50%"],
        label: { show: false },
        data: [
          { name: L.online, value: cams.online },
          { name: L.offline, value: cams.offline },
          { name: L.disabled, value: cams.disabled }
        ]
      }]
    });
  }

  // ------------------------------------------------------------------ live

  function statusTag(r) {
    if (r.awaiting_review) return el("span", L.awaiting_review, "fl-tag fl-tag-review");
    if (r.warned) return el("span", L.warned, "fl-tag fl-tag-warned");
    return el("span", L.not_warned, "fl-tag");
  }

  function renderLive(live, generatedAt) {
    root.querySelectorAll("[data-kpi]").forEach(function (node) {
      var v = pick(live, node.getAttribute("data-kpi"));
      if (v !== undefined && node.textContent !== String(v)) node.textContent = String(v);
    });
    var body = root.querySelector("[data-live-rows]");
    if (body) {
      var frag = document.createDocumentFragment();
      live.open_stays.rows.forEach(function (r) {
        var tr = document.createElement("tr");
        var th = el("th", r.plate, "plate");
        th.scope = "row";
        tr.appendChild(th);
        tr.appendChild(el("td", r.minutes, "num"));
        var st = el("td");
        st.appendChild(statusTag(r));
        tr.appendChild(st);
        tr.appendChild(el("td", r.lane));
        tr.appendChild(el("td", r.site));
        var td = el("td");
        var t = el("time", r.started);
        t.dateTime = r.started_at;
        td.appendChild(t);
        tr.appendChild(td);
        frag.appendChild(tr);
      });
      if (!live.open_stays.rows.length) {
        var empty = el("td", L.no_cars, "empty");
        empty.colSpan = 6;
        var tr0 = document.createElement("tr");
        tr0.appendChild(empty);
        frag.appendChild(tr0);
      }
      body.replaceChildren(frag);
    }
    var list = root.querySelector("[data-offline-list]");
    if (list) {
      var items = document.createDocumentFragment();
      live.cameras.offline_list.forEach(function (c) {
        var li = el("li");
        li.appendChild(el("strong", c.name));
        li.appendChild(document.createTextNode(" · " + c.site + " · "));
        li.appendChild(el("span", c.last_seen || L.never, "muted"));
        items.appendChild(li);
      });
      if (!live.cameras.offline_list.length) items.appendChild(el("li", L.no_offline, "empty"));
      list.replaceChildren(items);
    }
    var stamp = root.querySelector("[data-updated]");
    if (stamp && generatedAt) {
      var time = el("time", generatedAt.slice(11, 19));
      time.dateTime = generatedAt;
      stamp.replaceChildren(document.createTextNode(L.updated + " "), time);
    }
    drawCameras(live);
  }

  function drawAll(d) {
    drawDays(d);
    drawResponse(d);
    drawRepeat(d);
    drawCameras(d.live);
  }

  // ------------------------------------------------------------------ polling

  var liveSection = root.querySelector(".fl-live");

  function fetchJSON(target) {
    return fetch(target, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (res) {
        if (!res.ok) throw new Error(String(res.status));
        return res.json();
      });
  }

  function stale(isStale) {
    if (liveSection) liveSection.classList.toggle("is-stale", isStale);
    if (isStale) {
      var stamp = root.querySelector("[data-updated]");
      if (stamp) stamp.textContent = L.update_failed;
    }
  }

  function pollLive() {
    if (document.hidden) return; // a background tab costs the server nothing
    fetchJSON(withQuery("part=live"))
      .then(function (d) { renderLive(d.live, d.generated_at); stale(false); })
      .catch(function () { stale(true); });
  }

  function pollCharts() {
    if (document.hidden) return;
    fetchJSON(url)
      .then(function (d) { data = d; drawAll(d); renderLive(d.live, d.generated_at); stale(false); })
      .catch(function () { stale(true); });
  }

  drawAll(data);
  root.setAttribute("data-ready", window.echarts ? "charts" : "tables");
  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (k) { charts[k].resize(); });
  });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) pollLive();
  });
  window.setInterval(pollLive, livePoll);
  window.setInterval(pollCharts, chartsPoll);
})();
