// Draws the server-built Plotly figures (json_script) with the local plotly.js, and lets the keyboard
// read them: focus a chart, then Left/Right step through its points (hover labels), Escape clears.
(function () {
  "use strict";
  const CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["lasso2d", "select2d"] };

  function pointsOf(figure) {
    const points = [];
    figure.data.forEach(function (trace, curve) {
      if (trace.type === "heatmap") {
        (trace.z || []).forEach(function (row, i) {
          row.forEach(function (_, j) { points.push([{ curveNumber: curve, pointNumber: [i, j] }]); });
        });
        return;
      }
      const length = (trace.orientation === "h" ? trace.y : trace.x || trace.y || []).length;
      for (let i = 0; i < length; i += 1) {
        if (!points[i]) points[i] = [];
        points[i].push({ curveNumber: curve, pointNumber: i });
      }
    });
    return points;
  }

  function draw(element) {
    const figure = JSON.parse(document.getElementById(element.dataset.chart).textContent);
    Plotly.newPlot(element, figure.data, figure.layout, CONFIG);
    const points = pointsOf(figure);
    let index = -1;
    element.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { Plotly.Fx.unhover(element); index = -1; return; }
      if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
      if (!points.length) return;
      event.preventDefault();
      const step = event.key === "ArrowRight" ? 1 : -1;
      index = index < 0 ? (step > 0 ? 0 : points.length - 1) : (index + step + points.length) % points.length;
      Plotly.Fx.hover(element, points[index]);
    });
  }

  document.querySelectorAll("[data-chart]").forEach(draw);
})();
