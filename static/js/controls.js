// Leaders' controls on an agent's or a department's page. Each button opens its confirmation as a dialog
// (without this script it opens the confirm page instead), whose reason is required at the box itself.
// The page follows /ws/decisions/: when the agent's or the department's status changes, whoever changed
// it, the status, the buttons and the history are re-read from the server, never while a dialog is open.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    const opener = event.target.closest("[data-dialog]");
    if (opener) {
      const dialog = document.getElementById(opener.dataset.dialog);
      if (!dialog || typeof dialog.showModal !== "function") return;
      event.preventDefault();
      dialog.showModal();
      dialog.querySelector("textarea").focus();
      return;
    }
    const closer = event.target.closest("dialog [data-close]");
    if (closer) {
      event.preventDefault();
      closer.closest("dialog").close();
    }
  });

  function errorFor(box) {
    return document.getElementById(box.getAttribute("aria-describedby").split(" ").find(function (id) {
      return id.indexOf("reason-error-") === 0;
    }));
  }

  document.addEventListener("invalid", function (event) {
    const box = event.target;
    if (box.name !== "reason") return;
    event.preventDefault(); // our message at the box, not the browser's bubble
    errorFor(box).hidden = false;
    box.setAttribute("aria-invalid", "true");
    box.focus();
  }, true);

  document.addEventListener("input", function (event) {
    const box = event.target;
    if (box.name !== "reason" || box.value.trim() === "") return;
    errorFor(box).hidden = true;
    box.removeAttribute("aria-invalid");
  });

  document.addEventListener("submit", function (event) {
    const box = event.target.querySelector("textarea[name=reason]");
    if (box && box.value.trim() === "") { // spaces only: as empty as nothing
      event.preventDefault();
      box.value = "";
      box.reportValidity();
    }
  });

  const start = document.getElementById("stream-start");
  const status = document.querySelector("[data-testid=live-status]");
  if (!start || !status || !window.RegentStream) return;
  const config = JSON.parse(start.textContent);
  const CHANGES_STATUS = ["agent.status_changed", "department.status_changed"];
  let stale = false;

  function refresh() {
    if (document.querySelector("dialog[open]")) {
      stale = true; // someone is confirming: re-read when the dialog closes
      return;
    }
    stale = false;
    fetch(location.href, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        const fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live]").forEach(function (part) {
          const replacement = fresh.getElementById(part.id);
          if (replacement) part.replaceWith(document.importNode(replacement, true));
        });
      })
      .catch(function () { stale = true; });
  }

  document.addEventListener("close", function () { if (stale) refresh(); }, true);

  window.RegentStream.follow({
    start: config.start,
    status: status,
    onOpen: function (socket) {
      socket.send(JSON.stringify({ type: "filter", departments: [config.department] }));
    },
    onEvents: function (events) {
      if (events.some(function (event) { return CHANGES_STATUS.indexOf(event.type) !== -1; })) refresh();
    },
    onResync: refresh,
  });
})();
