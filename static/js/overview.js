// The overview, live: tiles and newest decisions follow /ws/decisions/ without a reload.
// Reconnects by itself and resumes after the last event it saw; on "resync" it reloads the numbers.
(function () {
  "use strict";
  const tiles = document.querySelector("[data-numbers-url]");
  const body = document.querySelector("[data-testid=recent-decisions]");
  const status = document.querySelector("[data-testid=live-status]");
  const start = document.getElementById("stream-start");
  if (!tiles || !body || !start) return;
  const numbersUrl = tiles.dataset.numbersUrl;
  const MAX_ROWS = 10;
  const REFRESH_MS = 60000;
  const VERDICT_TILES = { allow: "allowed", deny: "denied", require_approval: "escalated", flag: "flagged" };
  let lastEventId = JSON.parse(start.textContent);
  let retryMs = 500;

  function setTile(key, value) {
    const el = tiles.querySelector('[data-key="' + key + '"]');
    if (!el) return;
    if (value === null || value === undefined) el.textContent = "–";
    else if (key.endsWith("_rate")) el.textContent = Number(value).toFixed(1);
    else el.textContent = String(value);
  }

  function tileNumber(key) {
    const el = tiles.querySelector('[data-key="' + key + '"]');
    const n = el ? Number(el.textContent) : NaN;
    return Number.isFinite(n) ? n : 0;
  }

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

  function row(d) {
    const tr = document.createElement("tr");
    tr.append(
      cell(d.at.slice(11, 19)), cell(d.agent), cell(d.department), cell(d.action),
      cell(((d.amount || "") + " " + (d.currency || "")).trim()),
      cell(d.verdict, "verdict verdict-" + d.verdict), cell(String(d.risk_score))
    );
    return tr;
  }

  function showRows(rows) {
    const empty = body.querySelector("td[colspan]");
    if (empty) empty.parentElement.remove();
    rows.forEach(function (tr) { body.insertBefore(tr, body.firstChild); });
    while (body.children.length > MAX_ROWS) body.removeChild(body.lastChild);
  }

  function onDecision(event) {
    const d = event.data;
    setTile("decisions", tileNumber("decisions") + 1);
    const verdictTile = VERDICT_TILES[d.verdict];
    if (verdictTile) setTile(verdictTile, tileNumber(verdictTile) + 1);
    const total = tileNumber("decisions");
    setTile("automation_rate", total ? (100 * (total - tileNumber("escalated"))) / total : null);
    showRows([row({ at: event.at, agent: d.agent_name, department: d.department, action: d.action,
      amount: d.amount, currency: d.currency, verdict: d.verdict, risk_score: d.risk_score })]);
  }

  async function refreshNumbers() {
    const response = await fetch(numbersUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!response.ok) return;
    const numbers = await response.json();
    Object.keys(numbers).forEach(function (key) { if (key !== "recent") setTile(key, numbers[key]); });
    body.replaceChildren();
    showRows(numbers.recent.slice().reverse().map(function (d) {
      return row({ at: d.at, agent: d.agent, department: d.department, action: d.action,
        amount: d.amount, currency: d.currency, verdict: d.verdict, risk_score: d.risk_score });
    }));
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + "/ws/decisions/?last_event_id=" + lastEventId);
    socket.addEventListener("open", function () {
      retryMs = 500;
      status.textContent = "live";
      status.classList.remove("stale");
    });
    socket.addEventListener("message", function (message) {
      const frame = JSON.parse(message.data);
      if (frame.type === "events") {
        frame.events.forEach(function (event) {
          lastEventId = Math.max(lastEventId, event.id);
          if (event.type === "decision.created") onDecision(event);
          else if (event.type === "agent.status_changed") refreshNumbers();
        });
      } else if (frame.type === "resync") {
        lastEventId = frame.last_event_id;
        refreshNumbers();
      }
    });
    socket.addEventListener("close", function () {
      status.textContent = "reconnecting…";
      status.classList.add("stale");
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 10000);
    });
  }

  connect();
  setInterval(refreshNumbers, REFRESH_MS);
})();
