// The alerts page, live: when /ws/decisions/ says an alert opened or resolved (the stream sends only the viewer's
// scope), both lists are re-read from the server (again with the viewer's scope) and merged in place. Alerts
// already shown are never moved or replaced, so the focus and the reading position stay; new ones are inserted
// where they belong and announced ("1 new alert"); one that resolved leaves the open list, unless the focus is in
// it, and then it is only marked. Reconnects by itself and resumes after the last event it saw (static/js/stream.js).
(function () {
  "use strict";
  const root = document.querySelector("[data-sections-url]");
  const status = document.querySelector("[data-testid=live-status]");
  const news = document.querySelector("[data-testid=alerts-news]");
  const start = document.getElementById("stream-start");
  if (!root || !start) return;
  const CHANGES_ALERTS = ["alert.fired", "alert.resolved"];
  const DEBOUNCE_MS = 300;
  const REFRESH_MS = 60000;
  let pending = null;
  let arrivals = 0;

  function announce(count) {
    if (!count || !news) return;
    arrivals += count;
    news.textContent = arrivals + (arrivals === 1 ? " new alert" : " new alerts") + " since you opened the page.";
    news.hidden = false;
  }

  function mergeList(name, fresh) {
    const list = root.querySelector('[data-list="' + name + '"]');
    const freshList = fresh.querySelector('[data-list="' + name + '"]');
    if (!list || !freshList) return 0;
    const current = {};
    list.querySelectorAll("article[data-alert-id]").forEach(function (a) { current[a.dataset.alertId] = a; });
    const wanted = {};
    let previous = null;
    let arrived = 0;
    Array.from(freshList.children).forEach(function (item) {
      const id = item.dataset.alertId;
      if (!id) return;
      wanted[id] = true;
      if (current[id]) {
        previous = current[id];  // kept where it is: never moved, so a focused link keeps its focus
        return;
      }
      item.classList.add("arrived");
      if (previous) previous.after(item);
      else list.prepend(item);
      previous = item;
      arrived += 1;
    });
    Object.keys(current).forEach(function (id) {
      if (wanted[id]) return;
      const gone = current[id];
      if (gone.contains(document.activeElement)) gone.classList.add("gone");
      else gone.remove();
    });
    const empty = list.querySelector("[data-empty]");
    const shown = list.querySelectorAll("article[data-alert-id]").length;
    if (empty && shown) empty.remove();
    if (!empty && !shown) {
      const freshEmpty = freshList.querySelector("[data-empty]");
      if (freshEmpty) list.appendChild(freshEmpty);
    }
    return arrived;
  }

  function mergeHeading(testid, fresh) {
    const mine = root.querySelector("[data-testid=" + testid + "] h2");
    const theirs = fresh.querySelector("[data-testid=" + testid + "] h2");
    if (mine && theirs) mine.textContent = theirs.textContent;
  }

  async function refresh() {
    pending = null;
    const response = await fetch(root.dataset.sectionsUrl, { credentials: "same-origin" });
    if (!response.ok) return;
    const fresh = document.createElement("div");
    fresh.innerHTML = await response.text();
    const opened = mergeList("open", fresh);
    mergeList("resolved", fresh);
    mergeHeading("open-alerts", fresh);
    mergeHeading("resolved-alerts", fresh);
    announce(opened);
  }

  function soon() {
    if (!pending) pending = setTimeout(refresh, DEBOUNCE_MS);
  }

  window.RegentStream.follow({
    start: JSON.parse(start.textContent).start,
    status: status,
    onEvents: function (events) {
      if (events.some(function (event) { return CHANGES_ALERTS.indexOf(event.type) >= 0; })) soon();
    },
    onResync: soon,
  });
  setInterval(refresh, REFRESH_MS);
})();
