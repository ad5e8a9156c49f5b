// The interaction graph: selecting an agent's node opens its page. charts.js has drawn the figure (scripts
// run in order); each node carries its page's address as customdata. With the keyboard, Left/Right step
// from agent to agent (in place of charts.js's point-by-point reading) and Enter opens the one shown.
(function () {
  "use strict";

  function addressOf(url) {
    return typeof url === "string" && url.charAt(0) === "/" ? url : null;
  }

  document.querySelectorAll(".interaction-graph [data-chart]").forEach(function (element) {
    const figure = JSON.parse(document.getElementById(element.dataset.chart).textContent);
    const nodes = [];
    figure.data.forEach(function (trace, curve) {
      (trace.customdata || []).forEach(function (url, point) {
        if (addressOf(url)) nodes.push({ curveNumber: curve, pointNumber: point, url: url });
      });
    });
    let index = -1;

    element.on("plotly_click", function (event) {
      const url = addressOf(event.points[0].customdata);
      if (url) window.location.assign(url);
    });
    // Capture phase: runs before charts.js's listener on the same element, which it then stands in for.
    element.addEventListener("keydown", function (event) {
      if (event.key === "Escape") index = -1;
      if (event.key === "Enter" && index >= 0) {
        window.location.assign(nodes[index].url);
        return;
      }
      if ((event.key !== "ArrowRight" && event.key !== "ArrowLeft") || !nodes.length) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      const step = event.key === "ArrowRight" ? 1 : -1;
      index = index < 0 ? (step > 0 ? 0 : nodes.length - 1) : (index + step + nodes.length) % nodes.length;
      Plotly.Fx.hover(element, [{ curveNumber: nodes[index].curveNumber, pointNumber: nodes[index].pointNumber }]);
    }, true);
  });
})();
