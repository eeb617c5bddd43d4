/* Charts of the report pages, drawn with Chart.js from the JSON each page embeds.
   Nothing is told by colour alone: manual work is hatched, days that meet the target
   are circles and days that miss it triangles, and every chart has a table or legend. */
(function () {
  "use strict";
  var SOFTWARE = "#2f6fad";
  var HAND = "#c8641e";
  var TARGET = 99;

  function hatch(color) {
    var tile = document.createElement("canvas");
    tile.width = tile.height = 10;
    var ctx = tile.getContext("2d");
    ctx.fillStyle = "rgba(200, 100, 30, 0.25)";
    ctx.fillRect(0, 0, 10, 10);
    ctx.strokeStyle = color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(0, 10); ctx.lineTo(10, 0);
    ctx.moveTo(-2, 2); ctx.lineTo(2, -2);
    ctx.moveTo(8, 12); ctx.lineTo(12, 8);
    ctx.stroke();
    return ctx.createPattern(tile, "repeat");
  }

  function textColor() {
    return getComputedStyle(document.documentElement).getPropertyValue("--body-fg").trim() || "#333";
  }

  function base(extra) {
    var options = {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: { legend: { labels: { color: textColor(), usePointStyle: true } } },
    };
    return Object.assign(options, extra || {});
  }

  var builders = {
    // Share of actions done by software, with the 99 % target as a dashed line.
    share: function (canvas, data) {
      var shares = data.share.filter(function (v) { return v !== null; });
      var low = shares.length ? Math.min.apply(null, shares.concat([TARGET])) : 90;
      return new Chart(canvas, {
        type: "line",
        data: {
          labels: data.labels,
          datasets: [
            {
              label: "% by software",
              data: data.share,
              borderColor: SOFTWARE,
              backgroundColor: SOFTWARE,
              pointStyle: data.share.map(function (v) { return v !== null && v >= TARGET ? "circle" : "triangle"; }),
              pointRadius: data.share.map(function (v) { return v !== null && v >= TARGET ? 3 : 5; }),
              spanGaps: false,
              tension: 0.2,
            },
            {
              label: "99 : 1 target",
              data: data.labels.map(function () { return TARGET; }),
              borderColor: "#888",
              borderDash: [6, 4],
              borderWidth: 2,
              pointRadius: 0,
              pointStyle: "line",
            },
          ],
        },
        options: base({
          scales: {
            y: { min: Math.max(0, Math.floor(low) - 1), max: 100, ticks: { callback: function (v) { return v + " %"; } } },
            x: { ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 8 } },
          },
          plugins: {
            legend: {
              labels: {
                color: textColor(),
                usePointStyle: true,
                // the series' marker in the legend is a circle, whatever its first day was
                generateLabels: function (chart) {
                  var items = Chart.defaults.plugins.legend.labels.generateLabels(chart);
                  items.forEach(function (item) { if (item.datasetIndex === 0) { item.pointStyle = "circle"; } });
                  return items;
                },
              },
            },
            tooltip: {
              callbacks: {
                label: function (item) {
                  if (item.datasetIndex === 1) { return "target: 99 %"; }
                  var i = item.dataIndex;
                  return data.ratio[i] + " (" + data.algorithmic[i] + " by software, " + data.manual[i] + " by hand)";
                },
              },
            },
          },
        }),
      });
    },
    // Actions done by hand, as hatched bars.
    manual: function (canvas, data) {
      return new Chart(canvas, {
        type: "bar",
        data: {
          labels: data.labels,
          datasets: [{ label: "by hand", data: data.manual, backgroundColor: hatch(HAND), borderColor: HAND, borderWidth: 1 }],
        },
        options: base({
          scales: { y: { beginAtZero: true, ticks: { precision: 0 } }, x: { ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 8 } } },
        }),
      });
    },
    // Each category as one 100 % bar: solid by software, hatched by hand; a click drills down.
    categories: function (canvas, data) {
      var percent = function (part, i) {
        var total = data.algorithmic[i] + data.manual[i];
        return total ? (100 * part) / total : 0;
      };
      var chart = new Chart(canvas, {
        type: "bar",
        data: {
          labels: data.labels,
          datasets: [
            { label: "by software", data: data.algorithmic.map(percent), backgroundColor: SOFTWARE, borderColor: SOFTWARE, borderWidth: 1 },
            { label: "by hand", data: data.manual.map(percent), backgroundColor: hatch(HAND), borderColor: HAND, borderWidth: 1 },
          ],
        },
        options: base({
          indexAxis: "y",
          scales: {
            x: { stacked: true, min: 0, max: 100, ticks: { callback: function (v) { return v + " %"; } } },
            y: { stacked: true },
          },
          plugins: {
            legend: { labels: { color: textColor() } },
            tooltip: {
              callbacks: {
                label: function (item) {
                  var i = item.dataIndex;
                  var count = item.datasetIndex === 0 ? data.algorithmic[i] : data.manual[i];
                  return item.dataset.label + ": " + count + " (" + item.parsed.x.toFixed(1) + " %), ratio " + data.ratio[i];
                },
              },
            },
          },
          onClick: function (event, elements) {
            if (!elements.length) { return; }
            var url = new URL(canvas.dataset.drill || "actions/", window.location.href);
            var here = new URLSearchParams(window.location.search);
            url.searchParams.set("category", data.keys[elements[0].index]);
            ["start", "end"].forEach(function (name) { if (here.get(name)) { url.searchParams.set(name, here.get(name)); } });
            window.location.href = url.toString();
          },
        }),
      });
      return chart;
    },
    // Plain counts per day (touchpoints on the home page).
    counts: function (canvas, data) {
      return new Chart(canvas, {
        type: "bar",
        data: { labels: data.labels, datasets: [{ label: "touchpoints", data: data.counts, backgroundColor: SOFTWARE }] },
        options: base({
          plugins: { legend: { display: false } },
          scales: { y: { beginAtZero: true, ticks: { precision: 0 } }, x: { ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 7 } } },
        }),
      });
    },
  };

  // Values over real time (a contact's score, its intents): x is milliseconds, so uneven
  // gaps stay uneven without a date adapter. Each line has its own dash and point shape.
  var LINES = [
    { color: SOFTWARE, dash: [], point: "circle" },
    { color: HAND, dash: [6, 3], point: "triangle" },
    { color: "#3a8d4f", dash: [2, 2], point: "rect" },
    { color: "#7a4fa3", dash: [10, 3, 2, 3], point: "rectRot" },
    { color: "#555", dash: [12, 4], point: "star" },
  ];
  function day(ms) {
    return new Date(ms).toLocaleDateString(undefined, { day: "numeric", month: "short" });
  }
  builders.history = function (canvas, data) {
    var share = canvas.dataset.unit === "share";
    return new Chart(canvas, {
      type: "line",
      data: {
        datasets: data.datasets.map(function (set, n) {
          var line = LINES[n % LINES.length];
          return { label: set.label, data: set.points, borderColor: line.color, backgroundColor: line.color,
            borderDash: line.dash, pointStyle: line.point, pointRadius: 2, stepped: !share, tension: 0 };
        }),
      },
      options: base({
        parsing: true,
        plugins: {
          legend: { display: data.datasets.length > 1, labels: { color: textColor(), usePointStyle: true } },
          tooltip: { callbacks: {
            title: function (items) { return items.length ? new Date(items[0].parsed.x).toLocaleString() : ""; },
            label: function (item) {
              return item.dataset.label + ": " + (share ? Math.round(item.parsed.y * 100) + " %" : item.parsed.y);
            },
          } },
        },
        scales: {
          x: { type: "linear", ticks: { color: textColor(), maxRotation: 0, maxTicksLimit: 6, callback: day } },
          y: share
            ? { min: 0, max: 1, ticks: { color: textColor(), callback: function (v) { return Math.round(v * 100) + " %"; } } }
            : { beginAtZero: true, ticks: { color: textColor(), precision: 0 } },
        },
      }),
    });
  };

  function draw() {
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var source = document.getElementById(canvas.dataset.source);
      if (!source || !builders[canvas.dataset.chart]) { return; }
      builders[canvas.dataset.chart](canvas, JSON.parse(source.textContent));
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
