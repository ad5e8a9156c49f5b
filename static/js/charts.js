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

  // Under NARROW px (a phone) a chart gives its plot the room: smaller side margins and type, words on the plot
  // and axis titles broken into lines that fit, a heatmap's colour scale laid under the plot, not beside it.
  const NARROW = 480;
  const CHAR_PX = 6.5;

  function wrap(text, width) {
    const most = Math.max(12, Math.floor(width / CHAR_PX));
    return String(text).split("<br>").map(function (line) {
      const lines = [];
      let current = "";
      line.split(" ").forEach(function (word) {
        if (current && (current + " " + word).length > most) { lines.push(current); current = word; }
        else current = current ? current + " " + word : word;
      });
      lines.push(current);
      return lines.join("<br>");
    }).join("<br>");
  }

  function wrapTitle(axis, width) {
    if (axis && axis.title && axis.title.text) axis.title.text = wrap(axis.title.text, width);
  }

  function fitted(figure, width) {
    if (width >= NARROW) return figure;
    const data = JSON.parse(JSON.stringify(figure.data));
    const layout = JSON.parse(JSON.stringify(figure.layout));
    const margin = layout.margin || {};
    layout.margin = Object.assign({}, margin, { l: Math.min(margin.l ?? 60, 36), r: Math.min(margin.r ?? 20, 8) });
    layout.font = Object.assign({}, layout.font, { size: 11 });
    wrapTitle(layout.xaxis, width * 0.55);  // centred on the plot, which the names beside it narrow
    wrapTitle(layout.yaxis, (layout.height || 320) - 80);
    (layout.annotations || []).forEach(function (note) {
      if (note.xref === "paper" && note.text) note.text = wrap(note.text, width - 20);
    });
    data.forEach(function (trace) {
      if (trace.type === "heatmap") {
        trace.colorbar = Object.assign({}, trace.colorbar, {
          orientation: "h", x: 0, xanchor: "left", y: -0.45, yanchor: "top", thickness: 12, len: 1,
        });
        layout.height = (layout.height || 320) + 90;
        layout.margin.b = (layout.margin.b ?? 40) + 90;
      }
    });
    return { data: data, layout: layout };
  }

  function draw(element) {
    const figure = JSON.parse(document.getElementById(element.dataset.chart).textContent);
    let narrow = element.clientWidth < NARROW;
    const shown = fitted(figure, element.clientWidth);
    Plotly.newPlot(element, shown.data, shown.layout, CONFIG);
    window.addEventListener("resize", function () {
      if ((element.clientWidth < NARROW) === narrow) return;  // Plotly's own resizing keeps the rest in step
      narrow = !narrow;
      const again = fitted(figure, element.clientWidth);
      Plotly.react(element, again.data, again.layout, CONFIG);
    });
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
