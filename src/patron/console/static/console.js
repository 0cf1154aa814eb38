/* Patron console enhancements. Pages work without this file: it draws charts from the data tables
   printed beside them, and moves focus to an error summary. No inline script anywhere (CSP). */
(function () {
  "use strict";

  function drawCharts() {
    if (typeof window.Chart === "undefined") { return; }
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var source = document.getElementById(canvas.getAttribute("data-chart"));
      if (!source || canvas.dataset.drawn) { return; }
      var spec = JSON.parse(source.textContent);
      canvas.dataset.drawn = "1";
      var colours = ["#1f5fbf", "#c2410c"];
      new window.Chart(canvas, {
        type: spec.type || "line",
        data: {
          labels: spec.labels,
          datasets: spec.series.map(function (s, i) {
            return {
              label: s.label, data: s.values, borderColor: colours[i],
              // bars solid, lines over a light fill
              backgroundColor: spec.type === "bar" ? colours[i] : (i ? "rgba(194,65,12,.15)" : "rgba(31,95,191,.15)"),
              fill: spec.type !== "bar", tension: 0.25, pointRadius: spec.labels.length > 40 ? 0 : 2, borderWidth: 2
            };
          })
        },
        options: {
          responsive: true, maintainAspectRatio: false, animation: false,
          interaction: { mode: "index", intersect: false },
          plugins: { legend: { position: "bottom" } },
          scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
        }
      });
    });
  }

  function loadChartLibrary() {
    if (!document.querySelector("canvas[data-chart]")) { return; }
    if (typeof window.Chart !== "undefined") { drawCharts(); return; }
    var script = document.createElement("script");
    script.src = "/console/static/vendor/chart-4.6.1.umd.min.js";
    script.onload = drawCharts;
    document.head.appendChild(script);
  }

  function focusErrors() {
    var summary = document.querySelector(".error-summary");
    if (summary) { summary.focus(); }
  }

  document.addEventListener("DOMContentLoaded", function () { loadChartLibrary(); focusErrors(); });
  document.addEventListener("htmx:afterSettle", loadChartLibrary);
})();
