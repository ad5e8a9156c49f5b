// Following /ws/decisions/ from a page: one socket that reconnects by itself (backing off up to 10 s) and
// resumes after the last event it saw, with a "live" / "reconnecting…" status. The page says what to do
// with each frame of events, with a resync (it missed too much: re-read from the server), and on open.
// "live" and the end of the backoff wait for the server's hello, not the socket's open: a server that cannot
// reach its database accepts the socket and closes it at once (1013, "try again later"), and a page that
// counted that as connected would retry every half second, all of its tabs at once, for as long as it lasts.
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
          if (options.onOpen) options.onOpen(socket);
        });
        socket.addEventListener("message", function (message) {
          const frame = JSON.parse(message.data);
          if (frame.type === "hello") {
            retryMs = 500;
            options.status.textContent = "live";
            options.status.classList.remove("stale");
          } else if (frame.type === "events") {
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
          setTimeout(connect, retryMs * (0.75 + Math.random() / 2)); // spread, so tabs do not return in step
          retryMs = Math.min(retryMs * 2, 10000);
        });
      }

      connect();
    },
  };
})();
