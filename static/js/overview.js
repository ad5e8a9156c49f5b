// The overview, live: the newest decisions follow /ws/decisions/ without a reload, and the tiles are
// re-read from the rollups (debounced) whenever something that moves them arrives. Reconnects by itself
// and resumes after the last event it saw (static/js/stream.js); on "resync" it reloads the numbers.
(function () {
  "use strict";
  const tiles = document.querySelector("[data-numbers-url]");
  const body = document.querySelector("[data-testid=recent-decisions]");
  const status = document.querySelector("[data-testid=live-status]");
  const start = document.getElementById("stream-start");
  if (!tiles || !body || !start) return;
  const numbersUrl = tiles.dataset.numbersUrl + location.search;
  const stream = JSON.parse(start.textContent);
  const wordsElement = document.getElementById("business-words");
  const words = wordsElement ? JSON.parse(wordsElement.textContent) : { verdicts: {}, actions: {}, locale: "en-US" };

  function verdictLabel(code) { return words.verdicts[code] || code; }
  function actionLabel(code) {
    if (words.actions[code]) return words.actions[code];
    const parts = String(code).split(".");  // as dashboard.glossary.action_label: "invoice.approve" → "Invoice: approve"
    const subject = parts[0].replace(/_/g, " ");
    const label = subject.charAt(0).toUpperCase() + subject.slice(1);
    return parts.length > 1 ? label + ": " + parts.slice(1).join(".").replace(/_/g, " ") : label;
  }
  function amountText(amount, currency) {
    if (amount === null || amount === undefined || amount === "") return "";
    try {
      const code = currency || words.currency;  // no currency given: the organisation's, as on the server
      return new Intl.NumberFormat(words.locale, { style: "currency", currency: code }).format(Number(amount));
    } catch (error) {
      return amount + " " + currency;
    }
  }
  const MAX_ROWS = 10;
  const REFRESH_MS = 60000;
  const DEBOUNCE_MS = 750;
  const MOVES_TILES = ["decision.created", "approval.requested", "approval.resolved", "agent.status_changed",
    "department.status_changed"];
  let pending = null;

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

  function linked(text, href) {
    const td = document.createElement("td");
    const a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    td.appendChild(a);
    return td;
  }

  function row(d) {
    const tr = document.createElement("tr");
    tr.append(
      linked(d.at.slice(11, 19), "/decisions/" + encodeURIComponent(d.id) + "/"),
      linked(d.agent, "/agents/" + encodeURIComponent(d.agent_id) + "/"), cell(d.department), cell(actionLabel(d.action)),
      cell(amountText(d.amount, d.currency)),
      cell(verdictLabel(d.verdict), "verdict verdict-" + d.verdict), cell(String(d.risk_score))
    );
    return tr;
  }

  function showRows(rows) {
    const empty = body.querySelector("td[colspan]");
    if (empty) empty.parentElement.remove();
    rows.forEach(function (tr) { body.insertBefore(tr, body.firstChild); });
    while (body.children.length > MAX_ROWS) body.removeChild(body.lastChild);
  }

  async function refreshNumbers() {
    pending = null;
    const response = await fetch(numbersUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!response.ok) return;
    const numbers = await response.json();
    Object.keys(numbers.tiles).forEach(function (key) {
      const value = tiles.querySelector('[data-key="' + key + '"]');
      const change = tiles.querySelector('[data-change="' + key + '"]');
      if (value) value.textContent = numbers.tiles[key].display;
      const note = tiles.querySelector('[data-note="' + key + '"]');
      if (note && numbers.tiles[key].note) note.textContent = numbers.tiles[key].note;
      const also = tiles.querySelector('[data-also="' + key + '"]');
      if (also) {
        also.textContent = numbers.tiles[key].also;
        also.hidden = !numbers.tiles[key].also;
      }
      if (change) {
        change.textContent = numbers.tiles[key].change;
        change.className = "tile-change trend-" + numbers.tiles[key].trend;
      }
    });
    body.replaceChildren();
    showRows(numbers.recent.slice().reverse().map(row));
  }

  function soon() {
    if (!pending) pending = setTimeout(refreshNumbers, DEBOUNCE_MS);
  }

  function onDecision(event) {
    const d = event.data;
    showRows([row({ id: d.id, agent_id: d.agent_id, at: event.at, agent: d.agent_name, department: d.department,
      action: d.action, amount: d.amount, currency: d.currency, verdict: d.verdict, risk_score: d.risk_score })]);
  }

  window.RegentStream.follow({
    start: stream.start,
    status: status,
    onOpen: function (socket) {
      if (stream.departments) socket.send(JSON.stringify({ type: "filter", departments: stream.departments }));
    },
    onEvents: function (events) {
      events.forEach(function (event) {
        if (event.type === "decision.created") onDecision(event);
        if (MOVES_TILES.indexOf(event.type) >= 0) soon();
      });
    },
    onResync: refreshNumbers,
  });
  setInterval(refreshNumbers, REFRESH_MS);
})();
