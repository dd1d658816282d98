/* 驾驶舱 charts: the Wenling map (the county outline packaged with our static files,
 * towns' received cases as bubbles, the liaison stations as pins) and the weekly and
 * monthly trends, from the data the page was rendered with. Every word comes from the
 * page (translated on the server). The wall (screen mode) reloads itself. Without this
 * script every figure is still on the page as text and tables. */
(function () {
  "use strict";
  var root = document.querySelector("[data-cockpit]");
  if (!root) return;
  var data = JSON.parse(document.getElementById("cockpit-data").textContent);
  var L = data.labels;
  var screen = root.hasAttribute("data-refresh");
  var FONT = window.getComputedStyle(document.body).fontFamily || "sans-serif";
  var TEXT = screen ? "#e8f0fb" : "#1a1f29";
  var COLORS = ["#0b4a8b", "#f0a500", "#1d6b34", "#b3261e", "#6b4aa8", "#00838f"];

  document.querySelectorAll("[data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });
  if (screen) {
    var seconds = parseInt(root.getAttribute("data-refresh"), 10) || 60;
    window.setTimeout(function () { window.location.reload(); }, seconds * 1000);
  }
  if (typeof echarts === "undefined") return;

  function chart(id) {
    var el = document.getElementById(id);
    return el ? echarts.init(el, null, { renderer: "canvas" }) : null;
  }
  var base = { textStyle: { fontFamily: FONT, color: TEXT }, color: COLORS, animation: !screen };

  function trend(id, periods, key, withClosed) {
    var c = chart(id);
    if (!c) return;
    var series = data.trends.series.map(function (s) {
      return { name: s.name, type: "bar", stack: "received", data: s[key] };
    });
    if (withClosed) {
      var closed = periods.map(function (_p, i) {
        return data.trends.series.reduce(function (sum, s) { return sum + s.week_closed[i]; }, 0);
      });
      series.push({ name: L.closed, type: "line", data: closed, smooth: true });
    }
    c.setOption(Object.assign({}, base, {
      title: { text: key === "week" ? L.week : L.month, left: 0, top: 0, textStyle: { fontSize: 13, color: TEXT } },
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", top: 0, left: 60, right: 0, textStyle: { color: TEXT } },
      grid: { left: 40, right: 10, top: 40, bottom: 30 },
      xAxis: { type: "category", data: periods.map(function (p) { return p.slice(5); }), axisLabel: { color: TEXT } },
      yAxis: { type: "value", minInterval: 1, axisLabel: { color: TEXT } },
      series: series
    }));
    window.addEventListener("resize", function () { c.resize(); });
  }
  trend("cockpit-trend-week", data.trends.weeks, "week", true);
  trend("cockpit-trend-month", data.trends.months, "month", false);
  root.setAttribute("data-ready", "charts");

  var mapChart = chart("cockpit-map");
  if (!mapChart) return;
  fetch(data.geo, { credentials: "same-origin" })
    .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
    .then(function (geo) {
      echarts.registerMap("wenling", geo);
      var max = data.map.towns.reduce(function (m, t) { return Math.max(m, t.value[2]); }, 1);
      mapChart.setOption(Object.assign({}, base, {
        tooltip: {
          trigger: "item",
          formatter: function (p) {
            return p.seriesIndex === 0 ? p.name + "：" + L.received + " " + p.value[2] : p.name;
          }
        },
        legend: { bottom: 0, textStyle: { color: TEXT } },
        geo: {
          map: "wenling", roam: true,
          itemStyle: { areaColor: screen ? "#12345e" : "#e3ecf7", borderColor: screen ? "#4f8fd8" : "#0b4a8b" },
          emphasis: { itemStyle: { areaColor: screen ? "#1b4a80" : "#cfe0f3" }, label: { show: false } }
        },
        series: [
          {
            name: L.origin, type: "scatter", coordinateSystem: "geo", data: data.map.towns,
            symbolSize: function (v) { return 8 + 32 * Math.sqrt(v[2] / max); },
            itemStyle: { color: "rgba(240,165,0,0.75)" },
            label: { show: true, formatter: "{b}", position: "right", fontSize: 11, color: TEXT }
          },
          {
            name: L.stations, type: "scatter", coordinateSystem: "geo", data: data.map.stations,
            symbol: "pin", symbolSize: 18, itemStyle: { color: "#b3261e" }
          }
        ]
      }));
      window.addEventListener("resize", function () { mapChart.resize(); });
      root.setAttribute("data-ready", "map");
    })
    .catch(function () { /* the map is an extra: the figures are all in the tables */ });
})();
