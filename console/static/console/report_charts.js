// The supervisors' reports: a chart drawn from each report's table, for sighted users at a glance. The table is
// the accessible form and holds every figure; the chart adds nothing the table lacks, so the page works (and
// reads the same to a screen reader) without this script, without Chart.js, or without JavaScript.
// Plain ES2017 classic script, no build step, no inline script. Load it after Chart.js, both with `defer`:
//
//   <script defer src="{{ url_for('console.static', filename='vendor/chart.umd.min.js') }}"></script>
//   <script defer src="{{ url_for('console.static', filename='console/report_charts.js') }}"></script>
//
// The contract with the report templates:
//
//   <table class="govuk-table" id="answered-in-time" data-chart="line" data-chart-unit="percent">
//     <caption class="govuk-table__caption">Calls answered within 60 seconds, by day</caption>
//     <thead><tr>
//       <th scope="col">Day</th>                                   <- the label column (its header is not used)
//       <th scope="col" data-series>Answered in time</th>          <- a series: its text is the series' name
//       <th scope="col">Calls</th>                                 <- no data-series: not charted
//     </tr></thead>
//     <tbody>
//       <tr><th scope="row">Mon 3 March</th><td data-value="0.87">87%</td><td>120</td></tr>
//       <tr><th scope="row">Tue 4 March</th><td data-value="">No calls</td><td>0</td></tr>   <- a gap
//     </tbody>
//   </table>
//
// - Every <table data-chart="bar|line|stacked-bar"> gets a chart, in a <div class="report-chart"> inserted
//   just before the table, holding a <canvas>. The div has role="img" and aria-label
//   "Chart: <caption text>. The same figures are in the table below." Tables without data-chart get nothing.
// - Labels (the x axis) are the first cell of each <tbody> row, a <th scope="row">, as text.
// - Series are the columns whose header cell (in the <thead>'s last row) has data-series, in column order;
//   the header's text is the series' name. Other columns are ignored. Column positions count colspan.
// - A cell's number is its data-value attribute, a raw number ("0.87" for an 87% cell, "42" for 42 seconds).
//   An empty or missing data-value, or one that is not a number, is no value: a gap in a line, no bar.
//   Values are charted as given (a percent stays 0.87), only the axis and the tooltips show 87%.
// - Optional on the table: data-chart-unit="percent|seconds|count" (percent: y axis from 0 to 100%, ticks and
//   tooltips multiplied by 100; seconds: axis title "seconds"; count: whole-number ticks) and
//   data-chart-y-title (the y axis' title, instead of the unit's).
// - Give each table an id: window.ReportCharts.charts is a Map of the Chart instances by table id (by the
//   table element itself for a table without one). window.ReportCharts.drawAll(root) (re)draws every chart
//   under root (a document or an element), e.g. after a fragment was swapped in; it returns that Map.
// - Animations are off (screenshots and tests see the final chart); the chart fills the page's width and
//   18rem of height, and redraws as the window (or the zoom level) changes.
"use strict";

(function () {
  const TYPES = { bar: "bar", line: "line", "stacked-bar": "bar" };
  // GOV.UK Frontend's palette, each at least 3:1 against white (WCAG 1.4.11), in series order.
  const COLOURS = ["#1d70b8", "#f47738", "#00703c", "#d4351c", "#4c2c92", "#505a5f"];
  // Lines differ by marker as well as colour.
  const POINT_STYLES = ["circle", "rect", "triangle", "rectRot", "crossRot", "star"];
  const TEXT_COLOUR = "#0b0c0c";
  const GRID_COLOUR = "#b1b4b6";
  const FONT_FAMILY = "arial, sans-serif";
  const HEIGHT = "18rem";
  const charts = new Map();

  function text(element) {
    return element ? element.textContent.replace(/\s+/g, " ").trim() : "";
  }

  function number(cell) {
    const raw = cell ? cell.getAttribute("data-value") : null;
    if (raw === null || raw.trim() === "") return null;
    const value = Number(raw);
    return Number.isFinite(value) ? value : null;
  }

  // The cell of `row` that covers column `column` (counting colspan), or null.
  function cellAt(row, column) {
    let start = 0;
    for (const cell of Array.from(row.cells)) {
      const span = cell.colSpan || 1;
      if (column < start + span) return start === column ? cell : null;
      start += span;
    }
    return null;
  }

  function seriesColumns(table) {
    const head = table.tHead;
    if (!head || head.rows.length === 0) return [];
    const columns = [];
    let start = 0;
    for (const cell of Array.from(head.rows[head.rows.length - 1].cells)) {
      if (cell.hasAttribute("data-series")) columns.push({ column: start, name: text(cell) });
      start += cell.colSpan || 1;
    }
    return columns;
  }

  function bodyRows(table) {
    const rows = [];
    for (const body of Array.from(table.tBodies)) rows.push.apply(rows, Array.from(body.rows));
    return rows;
  }

  function formatter(unit) {
    if (unit === "percent") {
      return (value) => `${Math.round(value * 1000) / 10}%`;
    }
    if (unit === "seconds") {
      return (value) => `${value.toLocaleString("en-GB")} seconds`;
    }
    return (value) => value.toLocaleString("en-GB");
  }

  function configuration(table) {
    const kind = table.getAttribute("data-chart");
    const unit = table.getAttribute("data-chart-unit") || "count";
    const stacked = kind === "stacked-bar";
    const line = TYPES[kind] === "line";
    const rows = bodyRows(table);
    const datasets = seriesColumns(table).map((series, index) => {
      const colour = COLOURS[index % COLOURS.length];
      const dataset = {
        label: series.name,
        data: rows.map((row) => number(cellAt(row, series.column))),
        backgroundColor: colour,
        borderColor: colour,
        borderWidth: line ? 3 : 0,
        pointStyle: POINT_STYLES[index % POINT_STYLES.length],
      };
      if (line) Object.assign(dataset, { pointRadius: 4, spanGaps: false });
      return dataset;
    });
    const format = formatter(unit);
    const title = table.hasAttribute("data-chart-y-title")
      ? table.getAttribute("data-chart-y-title")
      : { percent: "", seconds: "seconds", count: "" }[unit] || "";
    const y = {
      stacked: stacked,
      beginAtZero: true,
      grid: { color: GRID_COLOUR },
      ticks: { color: TEXT_COLOUR },
      title: { display: title !== "", text: title, color: TEXT_COLOUR },
    };
    if (unit === "percent") {
      Object.assign(y, { min: 0, max: 1 });
      y.ticks.callback = (value) => `${Math.round(value * 100)}%`;
    } else if (unit === "count") {
      y.ticks.precision = 0;
    }
    return {
      type: TYPES[kind],
      data: { labels: rows.map((row) => text(row.cells[0])), datasets: datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { stacked: stacked, grid: { display: false }, ticks: { color: TEXT_COLOUR } },
          y: y,
        },
        plugins: {
          legend: {
            display: datasets.length > 1,
            position: "bottom",
            labels: { color: TEXT_COLOUR, usePointStyle: line },
          },
          tooltip: {
            callbacks: {
              label: (item) => `${item.dataset.label}: ${format(item.parsed.y)}`,
            },
          },
        },
      },
    };
  }

  function label(table) {
    const caption = text(table.caption) || table.getAttribute("aria-label") || "";
    return `Chart${caption ? `: ${caption.replace(/[.:]$/, "")}` : ""}. The same figures are in the table below.`;
  }

  function forget(key) {
    const chart = charts.get(key);
    if (!chart) return;
    chart.destroy();
    charts.delete(key);
  }

  function draw(table) {
    const key = table.id || table;
    forget(key);
    const previous = table.previousElementSibling;
    if (previous && previous.classList.contains("report-chart")) previous.remove();
    const wrapper = document.createElement("div");
    wrapper.className = "report-chart";
    wrapper.setAttribute("role", "img");
    wrapper.setAttribute("aria-label", label(table));
    // Chart.js sizes the canvas to this box (relative, a height of its own): the page's width, 18rem high.
    wrapper.style.position = "relative";
    wrapper.style.width = "100%";
    wrapper.style.height = HEIGHT;
    wrapper.style.marginBottom = "20px";
    const canvas = document.createElement("canvas");
    wrapper.appendChild(canvas);
    table.parentNode.insertBefore(wrapper, table);
    charts.set(key, new window.Chart(canvas, configuration(table)));
  }

  function drawAll(root) {
    if (typeof window.Chart !== "function") return charts; // the tables stand alone
    // Charts whose table has gone (a fragment swapped in whole) are let go.
    for (const [key, chart] of Array.from(charts)) {
      if (!chart.canvas || !chart.canvas.isConnected) forget(key);
    }
    window.Chart.defaults.font.family = FONT_FAMILY;
    window.Chart.defaults.color = TEXT_COLOUR;
    const tables = (root || document).querySelectorAll("table[data-chart]");
    for (const table of Array.from(tables)) {
      if (Object.prototype.hasOwnProperty.call(TYPES, table.getAttribute("data-chart"))) draw(table);
    }
    return charts;
  }

  window.ReportCharts = { drawAll: drawAll, charts: charts };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", () => drawAll(document));
  } else {
    drawAll(document);
  }
})();
