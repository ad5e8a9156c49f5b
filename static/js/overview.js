// Refreshes the overview's tiles and newest decisions without a reload.
(function () {
  "use strict";
  const tiles = document.querySelector("[data-numbers-url]");
  const body = document.querySelector("[data-testid=recent-decisions]");
  const status = document.querySelector("[data-testid=live-status]");
  if (!tiles || !body) return;
  const url = tiles.dataset.numbersUrl;
  const INTERVAL_MS = 2000;

  function cell(text, className) {
    const td = document.createElement("td");
    if (className) {
      const span = document.createElement("span");
      span.className = className;
      span.textContent = text;
      td.appendChild(span);
    } else {
      td.textContent = text;
    }
    return td;
  }

  function render(numbers) {
    tiles.querySelectorAll("[data-key]").forEach(function (el) {
      const value = numbers[el.dataset.key];
      if (value === null || value === undefined) el.textContent = "–";
      else if (el.dataset.key.endsWith("_rate")) el.textContent = Number(value).toFixed(1);
      else el.textContent = String(value);
    });
    const rows = numbers.recent.map(function (d) {
      const tr = document.createElement("tr");
      tr.append(
        cell(d.at.slice(11, 19)), cell(d.agent), cell(d.department), cell(d.action),
        cell((d.amount + " " + d.currency).trim()), cell(d.verdict, "verdict verdict-" + d.verdict),
        cell(String(d.risk_score))
      );
      return tr;
    });
    if (rows.length) body.replaceChildren.apply(body, rows);
  }

  async function refresh() {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) throw new Error(response.status);
      render(await response.json());
      status.textContent = "live";
      status.classList.remove("stale");
    } catch (err) {
      status.textContent = "reconnecting…";
      status.classList.add("stale");
    } finally {
      setTimeout(refresh, INTERVAL_MS);
    }
  }
  setTimeout(refresh, INTERVAL_MS);
})();
