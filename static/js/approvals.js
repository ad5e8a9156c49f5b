// The approvals inbox, live: when /ws/decisions/ says a request was made, escalated or resolved, the list is
// re-read from the server (its own scope and role rules) and merged in place. A card someone is working on
// (the focus is in it, or its comment holds text) is never moved or replaced, so typing and focus survive
// any number of events; new requests are inserted around it and announced ("3 new"). Reconnects by itself
// and resumes after the last event it saw (static/js/stream.js).
(function () {
  "use strict";
  const inbox = document.querySelector("[data-rows-url]");
  const status = document.querySelector("[data-testid=live-status]");
  const start = document.getElementById("stream-start");
  if (!inbox || !start) return;
  const CHANGES_INBOX = ["approval.requested", "approval.escalated", "approval.resolved"];
  const DEBOUNCE_MS = 300;
  const REFRESH_MS = 60000;
  let pending = null;
  let arrivals = 0;

  function busy(li) {
    if (li.contains(document.activeElement)) return true;
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

  function merge(fresh) {
    const list = inbox.querySelector("[data-testid=approval-list]");
    const freshList = fresh.querySelector("[data-testid=approval-list]");
    const count = inbox.querySelector("[data-testid=waiting-count]");
    const freshCount = fresh.querySelector("[data-testid=waiting-count]");
    if (!list || !freshList) return;
    if (count && freshCount) count.replaceWith(freshCount);
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
      li.classList.add("gone");
      li.querySelectorAll("button, textarea").forEach(function (el) { el.disabled = true; });
      if (!li.querySelector(".gone-note")) {
        const note = document.createElement("p");
        note.className = "gone-note";
        note.textContent = "No longer waiting for you: decided, escalated or withdrawn.";
        li.appendChild(note);
      }
    });
    const empty = list.querySelector("[data-testid=inbox-empty]");
    const hasItems = list.querySelector("li[data-approval-id]");
    if (empty && hasItems) empty.remove();
    if (!empty && !hasItems) {
      const freshEmpty = freshList.querySelector("[data-testid=inbox-empty]");
      if (freshEmpty) list.appendChild(freshEmpty);
    }
  }

  async function refresh() {
    pending = null;
    const response = await fetch(inbox.dataset.rowsUrl, { credentials: "same-origin" });
    if (!response.ok) return;
    const template = document.createElement("template");
    template.innerHTML = await response.text();
    merge(template.content);
  }

  function soon() {
    if (!pending) pending = setTimeout(refresh, DEBOUNCE_MS);
  }

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
