// Type-ahead for long tick lists (the explorer's agents and departments): a search box above the list hides
// the options whose name does not contain what is typed, and a line says how many are ticked. Without this
// script the list is still there, scrolling inside its box.
(function () {
  "use strict";
  document.querySelectorAll("[data-picker]").forEach(function (picker) {
    const options = picker.querySelector(".picker-options");
    const labels = Array.from(options.querySelectorAll("label"));
    const legend = picker.querySelector("legend").textContent.trim();
    const search = document.createElement("input");
    search.type = "search";
    search.placeholder = "Type to find " + legend.toLowerCase();
    search.setAttribute("aria-label", "Find " + legend.toLowerCase());
    search.autocomplete = "off";
    const summary = document.createElement("div");
    summary.className = "picker-summary muted";
    summary.setAttribute("aria-live", "polite");
    options.before(search);
    options.after(summary);

    function summarise() {
      const ticked = labels.filter(function (label) { return label.querySelector("input").checked; });
      summary.textContent = ticked.length ? ticked.length + " chosen" : "None chosen: all you may see";
    }
    search.addEventListener("input", function () {
      const wanted = search.value.trim().toLowerCase();
      labels.forEach(function (label) {
        label.hidden = wanted !== "" && !label.textContent.toLowerCase().includes(wanted);
      });
    });
    search.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") return;
      event.preventDefault(); // Enter ticks the only match left instead of submitting half-chosen filters
      const shown = labels.filter(function (label) { return !label.hidden; });
      if (shown.length === 1) {
        const box = shown[0].querySelector("input");
        box.checked = !box.checked;
        summarise();
      }
    });
    options.addEventListener("change", summarise);
    summarise();
  });
})();
