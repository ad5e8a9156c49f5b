// The approvals inbox, live: when /ws/decisions/ says a request was made, escalated or resolved, the list is
// re-read from the server with the page's own filters and page (its scope and role rules) and merged in place.
// A card someone is working on (the focus is in it, or its comment holds text) is never moved or replaced, so
// typing and focus survive any number of events; new requests that match the filters are inserted around it
// and announced ("3 new"). Reconnects by itself and resumes after the last event it saw (static/js/stream.js).
//
// Deciding, one request or the ticked ones, posts the form and puts the answer next to the control that was
// used; without this script the same forms post and the server places the message by the card.
(function () {
  "use strict";
  const inbox = document.querySelector("[data-rows-url]");
  const status = document.querySelector("[data-testid=live-status]");
  const start = document.getElementById("stream-start");
  const bulk = document.getElementById("bulk");
  if (!inbox || !start) return;
  const CHANGES_INBOX = ["approval.requested", "approval.escalated", "approval.resolved"];
  const DEBOUNCE_MS = 300;
  const REFRESH_MS = 60000;
  const CLOCK_MS = 30000;
  let pending = null;
  let arrivals = 0;

  // ---- Deadlines, worded as dashboard/inbox.py words them, kept fresh -------------------------------------
  function span(seconds) {
    let minutes = Math.floor(seconds / 60);
    if (minutes < 1) return "under 1 min";
    const days = Math.floor(minutes / 1440);
    minutes -= days * 1440;
    const hours = Math.floor(minutes / 60);
    minutes -= hours * 60;
    if (days) return hours ? days + " d " + hours + " h" : days + " d";
    if (hours) return minutes ? hours + " h " + minutes + " min" : hours + " h";
    return minutes + " min";
  }

  function wordDeadlines(root) {
    root.querySelectorAll("time[data-deadline]").forEach(function (time) {
      const seconds = (Date.parse(time.getAttribute("datetime")) - Date.now()) / 1000;
      time.textContent = seconds >= 0 ? "in " + span(seconds) : "overdue by " + span(-seconds);
      time.classList.toggle("overdue", seconds < 0);
    });
  }

  // A tap (no hover on a phone) shows the exact time beside the relative one.
  inbox.addEventListener("click", function (event) {
    const time = event.target.closest("time[data-deadline]");
    if (time) time.parentElement.classList.toggle("show-exact");
  });

  // ---- Live merge -----------------------------------------------------------------------------------------
  function busy(li) {
    if (li.contains(document.activeElement)) return true;
    if (li.querySelector("input[type=checkbox]:checked")) return true;
    return Array.from(li.querySelectorAll("textarea")).some(function (box) { return box.value.trim() !== ""; });
  }

  function announce(count) {
    if (!count) return;
    arrivals += count;
    let news = inbox.querySelector("[data-testid=inbox-news]");
    if (!news) {
      news = document.createElement("p");
      news.className = "news";
      news.dataset.testid = "inbox-news";
      news.setAttribute("role", "status");
      inbox.prepend(news);
    }
    news.textContent = arrivals + (arrivals === 1 ? " new request" : " new requests") + " since you opened the inbox.";
  }

  function markGone(li, text) {
    li.classList.add("gone");
    li.querySelectorAll("button, textarea, input").forEach(function (el) { el.disabled = true; });
    let note = li.querySelector(".gone-note");
    if (!note) {
      note = document.createElement("p");
      note.className = "gone-note";
      li.appendChild(note);
    }
    note.textContent = text;
  }

  function replaceWith(selector, fresh) {
    const mine = inbox.querySelector(selector);
    const theirs = fresh.querySelector(selector);
    if (mine && theirs) mine.replaceWith(theirs);
    else if (mine && !theirs) mine.remove();
    else if (!mine && theirs) inbox.appendChild(theirs);
  }

  function merge(fresh) {
    const list = inbox.querySelector("[data-testid=approval-list]");
    const freshList = fresh.querySelector("[data-testid=approval-list]");
    if (!list || !freshList) return;
    replaceWith("[data-testid=waiting-count]", fresh);
    replaceWith("[data-testid=pager]", fresh);
    const stillWaiting = (freshList.dataset.stillWaiting || "").split(",");
    const current = {};
    list.querySelectorAll("li[data-approval-id]").forEach(function (li) { current[li.dataset.approvalId] = li; });
    const wanted = {};
    let previous = null;
    let arrived = 0;
    Array.from(freshList.children).forEach(function (li) {
      const id = li.dataset.approvalId;
      if (!id) return;
      wanted[id] = true;
      const keep = current[id] || li;
      if (!current[id]) {
        keep.classList.add("arrived");
        wordDeadlines(keep);
        arrived += 1;
      }
      const inPlace = previous ? previous.nextElementSibling === keep : list.firstElementChild === keep;
      // Moving a node takes the focus out of it: a busy card stays where it is and the others go around it.
      if (!inPlace && !(current[id] && busy(keep))) {
        if (previous) previous.after(keep); else list.prepend(keep);
      }
      previous = keep;
    });
    announce(arrived);
    Object.keys(current).forEach(function (id) {
      if (wanted[id]) return;
      const li = current[id];
      if (li.classList.contains("gone") || li.classList.contains("decided")) return;
      if (stillWaiting.indexOf(id) >= 0) {
        // Still waiting, now on another page: leave a card being worked on, drop the others quietly.
        if (!busy(li)) li.remove();
        return;
      }
      markGone(li, "No longer waiting for you: decided, escalated or withdrawn.");
    });
    const empty = list.querySelector("[data-testid=inbox-empty]");
    const hasItems = list.querySelector("li[data-approval-id]");
    if (empty && hasItems) empty.remove();
    if (!empty && !hasItems) {
      const freshEmpty = freshList.querySelector("[data-testid=inbox-empty]");
      if (freshEmpty) list.appendChild(freshEmpty);
    }
    countSelected();
  }

  async function refresh() {
    pending = null;
    const shown = Array.from(inbox.querySelectorAll("li[data-approval-id]")).map(function (li) {
      return li.dataset.approvalId;
    });
    const query = new URLSearchParams(location.search);
    query.set("shown", shown.join(","));
    const response = await fetch(inbox.dataset.rowsUrl + "?" + query.toString(), { credentials: "same-origin" });
    if (!response.ok) return;
    const template = document.createElement("template");
    template.innerHTML = await response.text();
    merge(template.content);
  }

  function soon() {
    if (!pending) pending = setTimeout(refresh, DEBOUNCE_MS);
  }

  // ---- Deciding -------------------------------------------------------------------------------------------
  function showNote(form, field, text) {
    form.querySelectorAll("[data-note]").forEach(function (note) {
      note.textContent = note.dataset.note === field ? text : "";
    });
    const box = form.querySelector("textarea");
    if (box) box.setAttribute("aria-invalid", field === "comment" && text ? "true" : "false");
    if (field === "comment" && text && box) box.focus();
  }

  async function post(form, verdict) {
    const body = new FormData(form);
    body.set("verdict", verdict);
    const response = await fetch(form.action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    return response.json();
  }

  function decided(li, text) {
    li.classList.add("decided");
    const form = li.querySelector("form.decide");
    if (form) form.remove();
    const pick = li.querySelector("input[type=checkbox]");
    if (pick) pick.remove();
    let note = li.querySelector(".done-note");
    if (!note) {
      note = document.createElement("p");
      note.className = "done-note";
      note.setAttribute("role", "status");
      li.appendChild(note);
    }
    note.textContent = text;
  }

  inbox.addEventListener("submit", async function (event) {
    const form = event.target.closest("form.decide");
    if (!form) return;
    event.preventDefault();
    const verdict = event.submitter ? event.submitter.value : form.dataset.verdict || "approve";
    const li = form.closest("li[data-approval-id]");
    form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    try {
      const answer = await post(form, verdict);
      if (answer.decided) {
        li.focus();
        decided(li, answer.message);
      } else {
        showNote(form, answer.field, answer.message);
      }
    } finally {
      form.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
    }
  });

  function countSelected() {
    if (!bulk) return;
    const ticked = inbox.querySelectorAll("input[type=checkbox][form=bulk]:checked:not(:disabled)").length;
    bulk.querySelector("[data-testid=selected-count]").textContent = ticked
      ? ticked + (ticked === 1 ? " request selected." : " requests selected.")
      : "Tick requests below to decide them together.";
  }

  inbox.addEventListener("change", function (event) {
    if (event.target.matches("input[type=checkbox][form=bulk]")) countSelected();
  });

  if (bulk) {
    bulk.addEventListener("submit", async function (event) {
      event.preventDefault();
      const verdict = event.submitter ? event.submitter.value : "approve";
      bulk.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      try {
        const answer = await post(bulk, verdict);
        if (!answer.results) {
          bulk.querySelector("[data-note=verdict]").classList.remove("summary");
          showNote(bulk, answer.field, answer.message);
          return;
        }
        showNote(bulk, "verdict", answer.summary);
        bulk.querySelector("[data-note=verdict]").classList.add("summary");
        answer.results.forEach(function (result) {
          const li = inbox.querySelector('li[data-approval-id="' + result.approval + '"]');
          if (!li) return;
          if (result.decided) {
            decided(li, result.message);
          } else {
            const note = li.querySelector("[data-note=verdict]");
            if (note) note.textContent = result.message;
          }
        });
        if (answer.results.every(function (r) { return r.decided; })) bulk.querySelector("textarea").value = "";
        countSelected();
      } finally {
        bulk.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
      }
    });
  }

  // ---- Filters apply as soon as they change ---------------------------------------------------------------
  const filters = document.querySelector("[data-testid=inbox-filters]");
  if (filters) {
    filters.addEventListener("change", function (event) {
      if (event.target.matches("select")) filters.requestSubmit();
    });
  }

  wordDeadlines(inbox);
  setInterval(function () { wordDeadlines(inbox); }, CLOCK_MS);
  window.RegentStream.follow({
    start: JSON.parse(start.textContent).start,
    status: status,
    onEvents: function (events) {
      if (events.some(function (event) { return CHANGES_INBOX.indexOf(event.type) >= 0; })) soon();
    },
    onResync: soon,
  });
  setInterval(refresh, REFRESH_MS);
})();
