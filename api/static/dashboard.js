/* Draws the dashboard's charts from the JSON the page carries (#chart-data), with Chart.js.
   The numbers come as decimal strings; charts only plot them, the tables show them exact. */
(function () {
  "use strict";
  var specs = JSON.parse(document.getElementById("chart-data").textContent);
  var palette = ["#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#0ea5e9", "#64748b"];

  function number(value) {
    return value === null ? null : Number(value);
  }

  function options(kind) {
    var base = {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      plugins: { legend: { display: kind === "stacked-bar" || kind === "bar-grouped" } },
      scales: { y: { beginAtZero: true } }
    };
    if (kind === "funnel") {
      base.indexAxis = "y";
      base.scales = { x: { beginAtZero: true, ticks: { precision: 0 } } };
    } else if (kind === "percent-line") {
      base.scales.y.suggestedMax = 100;
      base.scales.y.ticks = { callback: function (v) { return v + " %"; } };
    } else if (kind === "stacked-bar") {
      base.scales = { x: { stacked: true }, y: { stacked: true, beginAtZero: true } };
    } else {
      base.scales.y.ticks = { precision: 0 };
    }
    return base;
  }

  // A chart whose spec has `links` (one per label) opens the list of a bar's deals on click.
  function drillDown(base, links) {
    if (!links) { return base; }
    base.onClick = function (event, elements) {
      if (elements.length) { window.location.href = links[elements[0].index]; }
    };
    base.onHover = function (event, elements) {
      event.native.target.style.cursor = elements.length ? "pointer" : "default";
    };
    return base;
  }

  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var spec = specs[canvas.dataset.chart];
    if (!spec) { return; }
    var kind = spec.datasets.length > 1 && spec.kind === "bar" ? "bar-grouped" : spec.kind;
    new Chart(canvas, {
      type: spec.kind === "percent-line" ? "line" : "bar",
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map(function (set, i) {
          var colour = palette[i % palette.length];
          return {
            label: set.label,
            data: set.data.map(number),
            backgroundColor: colour,
            borderColor: colour,
            spanGaps: true,
            pointRadius: 4,
            tension: 0.2
          };
        })
      },
      options: drillDown(options(kind), spec.links)
    });
    // Tests and scripts wait on this rather than guessing when the chart is drawn.
    canvas.dataset.drawn = "true";
  });
}());
