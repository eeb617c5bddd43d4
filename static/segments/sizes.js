/* A segment's size after each rebuild, as a line with a point per measure (the table
   beside it says the same in numbers). */
(function () {
  "use strict";
  function draw() {
    var canvas = document.getElementById("segment-sizes-chart");
    var source = document.getElementById("segment-sizes");
    if (!canvas || !source || typeof Chart === "undefined") return;
    var data = JSON.parse(source.textContent);
    var fg = getComputedStyle(document.documentElement).getPropertyValue("--body-fg").trim() || "#333";
    new Chart(canvas, {
      type: "line",
      data: { labels: data.labels, datasets: [{ label: "members", data: data.sizes, borderColor: "#2f6fad",
        backgroundColor: "#2f6fad", pointStyle: "circle", pointRadius: 3, stepped: true }] },
      options: { responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { legend: { display: false } },
        scales: { y: { beginAtZero: true, ticks: { precision: 0, color: fg } },
                  x: { ticks: { color: fg, maxRotation: 0, autoSkip: true, maxTicksLimit: 6 } } } },
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw); else draw();
})();
