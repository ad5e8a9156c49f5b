// The integrity page: while a verification runs, read its state every second and show it in place.
(function () {
  "use strict";
  const box = document.querySelector("[data-testid=verification]");
  if (!box || box.dataset.finished === "true") return;
  const status = box.querySelector("[data-testid=verification-status]");
  const progress = box.querySelector("[data-testid=verification-progress]");
  const bar = progress.querySelector("progress");
  const progressText = box.querySelector("[data-testid=verification-progress-text]");
  const summary = box.querySelector("[data-testid=verification-summary]");
  const findings = box.querySelector("[data-testid=verification-findings]");

  function show(state) {
    status.textContent = state.status_label;
    status.className = "status status-" + state.status;
    bar.value = state.percent;
    progressText.textContent = state.progress || "";
    summary.textContent = state.summary;
    findings.replaceChildren(...state.findings.map(function (text) {
      const item = document.createElement("li");
      item.className = "error";
      item.textContent = text;
      return item;
    }));
    progress.hidden = state.finished;
    box.dataset.finished = state.finished ? "true" : "false";
  }

  async function poll() {
    try {
      const response = await fetch(box.dataset.stateUrl, { credentials: "same-origin" });
      if (response.ok) {
        const state = await response.json();
        show(state);
        if (state.finished) return;
      }
    } catch (error) {
      // A missed reading is retried on the next tick.
    }
    window.setTimeout(poll, 1000);
  }
  window.setTimeout(poll, 1000);
})();
