// The interaction graph: selecting an agent's node opens its page. charts.js has drawn the figure (scripts
// run in order); each node carries its page's address as customdata. With the keyboard, arrow keys move
// the hover (charts.js) and Enter opens the agent under it.
(function () {
  "use strict";
  document.querySelectorAll(".interaction-graph [data-chart]").forEach(function (element) {
    let hovered = null;

    function addressOf(point) {
      const url = point && point.customdata;
      return typeof url === "string" && url.charAt(0) === "/" ? url : null;
    }

    element.on("plotly_click", function (event) {
      const url = addressOf(event.points[0]);
      if (url) window.location.assign(url);
    });
    element.on("plotly_hover", function (event) { hovered = addressOf(event.points[0]); });
    element.on("plotly_unhover", function () { hovered = null; });
    element.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && hovered) window.location.assign(hovered);
    });
  });
})();
