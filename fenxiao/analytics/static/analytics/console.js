/* 经营概况 and report pages: a chart's tooltip reads a figure as the cards and tables do
   (¥3,892,992.70, 12.50 %, 12,345). Chart.js printed an amount as the float it draws
   (3,892,992.7) with no ¥. Each dataset names its unit (fxUnit: fen, bp or count); unfold
   draws the charts on window load, so this runs after that. */
(function () {
  "use strict";
  const grouped = (value, digits) =>
    value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

  function figure(value, unit) {
    if (value === null || value === undefined || Number.isNaN(value)) return "-";
    if (unit === "fen") return (value < 0 ? "-¥" : "¥") + grouped(Math.abs(value), 2);
    if (unit === "bp") return grouped(value, 2) + " %";
    return grouped(value, 0);
  }

  function label(context) {
    const dataset = context.dataset || {};
    const value = context.parsed && typeof context.parsed === "object" ? context.parsed.y : context.parsed;
    return `${dataset.label}: ${figure(value, dataset.fxUnit)}`;
  }

  window.fxChartFigure = figure;
  window.addEventListener("load", () => {
    setTimeout(() => {
      if (!window.Chart) return;
      for (const canvas of document.querySelectorAll("canvas.chart")) {
        const chart = window.Chart.getChart(canvas);
        if (!chart) continue;
        chart.options.plugins.tooltip.callbacks.label = label;
        chart.update("none");
      }
    }, 0);
  });
})();
