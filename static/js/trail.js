// The decision page's audit trail. An entry recorded but not chained yet (the sequencer links queued entries
// within about a second) shows as "waiting to be chained"; while any does, the page reads itself again now and
// then and puts the fresh trail in place, until none waits. No socket: the page has no live feed, and the wait
// is short.
(function () {
  "use strict";
  const FIRST_MS = 500;
  const MAX_MS = 5000;
  const GIVE_UP_MS = 10 * 60 * 1000; // a sequencer that is down for longer: /readyz says so, and a reload will do
  const started = Date.now();
  let waitMs = FIRST_MS;

  function trail() {
    return document.getElementById("audit-trail");
  }

  function schedule() {
    const current = trail();
    if (!current || !current.hasAttribute("data-waiting") || Date.now() - started > GIVE_UP_MS) return;
    setTimeout(check, waitMs);
    waitMs = Math.min(waitMs * 1.5, MAX_MS);
  }

  function check() {
    fetch(location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        const fresh = new DOMParser().parseFromString(html, "text/html").getElementById("audit-trail");
        const current = trail();
        if (fresh && current) current.replaceWith(document.importNode(fresh, true));
      })
      .catch(function () { /* busy (503) or offline: the next check tries again */ })
      .finally(schedule);
  }

  schedule();
})();
