// Following /ws/decisions/ from a page: one socket that reconnects by itself (backing off up to 10 s) and
// resumes after the last event it saw, with a "live" / "reconnecting…" status. The page says what to do
// with each frame of events, with a resync (it missed too much: re-read from the server), and on open.
(function () {
  "use strict";
  // Served apart from pages (settings.STREAM_PORT), the stream is on this host at another port.
  function streamHost() {
    const port = document.querySelector('meta[name="regent-stream-port"]');
    return port ? location.hostname + ":" + port.content : location.host;
  }

  window.RegentStream = {
    follow: function (options) {
      let lastEventId = options.start;
      let retryMs = 500;

      function connect() {
        const scheme = location.protocol === "https:" ? "wss://" : "ws://";
        const socket = new WebSocket(scheme + streamHost() + "/ws/decisions/?last_event_id=" + lastEventId);
        socket.addEventListener("open", function () {
          retryMs = 500;
          options.status.textContent = "live";
          options.status.classList.remove("stale");
          if (options.onOpen) options.onOpen(socket);
        });
        socket.addEventListener("message", function (message) {
          const frame = JSON.parse(message.data);
          if (frame.type === "events") {
            frame.events.forEach(function (event) { lastEventId = Math.max(lastEventId, event.id); });
            options.onEvents(frame.events);
          } else if (frame.type === "resync") {
            lastEventId = frame.last_event_id;
            options.onResync();
          }
        });
        socket.addEventListener("close", function () {
          options.status.textContent = "reconnecting…";
          options.status.classList.add("stale");
          setTimeout(connect, retryMs);
          retryMs = Math.min(retryMs * 2, 10000);
        });
      }

      connect();
    },
  };
})();
