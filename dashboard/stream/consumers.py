"""`/ws/decisions/`: the live stream for people (browser session) and agents (API key).

Query parameters: `last_event_id=N` to resume after event N; `token=rgt_…` for an agent (or an
`Authorization: Bearer` header). Frames the server sends:
`{"type": "hello", "last_event_id": N}` first; `{"type": "events", "events": [...]}` (oldest first);
`{"type": "resync", "last_event_id": N, "reason": …}` when the client must reload its state;
`{"type": "filtered", ...}` or `{"type": "error", "message": …}` in answer to a filter.
Refusals are closes with a code: 4401 (authenticate), 4403 (not allowed), and 1013 "try again later" when
the database cannot serve the handshake (reconnect with backoff); 4008 ends a client too slow to keep up.
A client narrows the stream with `{"type": "filter", "departments": [ids], "agents": [ids],
"verdicts": [...], "min_risk": 0-100}`.
"""

import asyncio
import json
import logging
from urllib.parse import parse_qs, urlsplit

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from audit.events import STREAMED_KINDS as STREAMED
from dashboard.stream.hub import Subscriber, encode, get_hub, read_events
from dashboard.stream.scope import FilterError, StreamScope, scope_for_agent, scope_for_user
from orchestration.keys import authenticate_agent_key
from restapi.errors import unavailable_for

logger = logging.getLogger(__name__)

RESUME_LIMIT = 10_000
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_TOO_SLOW = 4008
CLOSE_TRY_AGAIN_LATER = 1013  # RFC 6455's registered "Try Again Later"
REFUSALS = {
    CLOSE_UNAUTHENTICATED: "authenticate with a session or an agent key",
    CLOSE_FORBIDDEN: "not allowed to watch this stream",
    CLOSE_TRY_AGAIN_LATER: "Regent cannot reach its database now; try again shortly",
}


class DecisionStreamConsumer(AsyncWebsocketConsumer):
    # Events come from the process hub, not from a channel-layer channel per connection.
    channel_layer_alias = "__no_channel_layer__"

    async def connect(self) -> None:
        """Open the stream, or refuse it with a close code; a store that cannot serve is "try again later"."""
        self.accepted = False
        try:
            await self._open()
        except Exception as exc:
            if unavailable_for(exc) is None:
                raise
            logger.warning("live stream refused, try again later: %s: %s", type(exc).__name__, exc)
            if not self.accepted:
                await self.accept()
            await self.close(code=CLOSE_TRY_AGAIN_LATER, reason=REFUSALS[CLOSE_TRY_AGAIN_LATER])

    async def _open(self) -> None:
        if "unavailable" in self.scope:  # the session could not be read (dashboard.stream.auth)
            raise self.scope["unavailable"]
        scope, code = await self._authorise()
        await self.accept()  # accepted first so that a refusal carries its close code and reason
        self.accepted = True
        if scope is None:
            await self.close(code=code, reason=REFUSALS[code])
            return
        hub = await get_hub()
        after = self._last_event_id()
        self.subscriber = Subscriber(scope, after=after or 0)
        delivered = hub.register(self.subscriber)
        self.hub = hub
        await self.send(text_data=encode({"type": "hello", "last_event_id": delivered}))
        if after is not None and after < delivered:
            await self._catch_up(after, delivered)
        self.pump = asyncio.create_task(self._pump())

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "subscriber"):
            self.hub.unregister(self.subscriber)
        if hasattr(self, "pump"):
            self.pump.cancel()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            message = json.loads(text_data or "")
            if not isinstance(message, dict) or message.get("type") != "filter":
                raise FilterError('send {"type": "filter", ...}')
            self.subscriber.scope = self.subscriber.scope.narrowed(message)
        except (ValueError, FilterError) as exc:
            await self.send(text_data=encode({"type": "error", "message": str(exc)}))
            return
        scope = self.subscriber.scope
        await self.send(
            text_data=encode(
                {
                    "type": "filtered",
                    "departments": sorted(scope.departments) if scope.departments is not None else None,
                    "agents": sorted(scope.agents) if scope.agents is not None else None,
                    "verdicts": sorted(scope.verdicts) if scope.verdicts is not None else None,
                    "min_risk": scope.min_risk,
                }
            )
        )

    async def _authorise(self) -> tuple[StreamScope | None, int]:
        token = self._token()
        if token:
            agent = await database_sync_to_async(authenticate_agent_key)(token)
            return (scope_for_agent(agent), 0) if agent else (None, CLOSE_UNAUTHENTICATED)
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            return None, CLOSE_UNAUTHENTICATED
        if not self._same_origin():
            return None, CLOSE_FORBIDDEN
        scope = await database_sync_to_async(scope_for_user)(user)
        return (scope, 0) if scope else (None, CLOSE_FORBIDDEN)

    def _token(self) -> str:
        for name, value in self.scope.get("headers", []):
            if name == b"authorization" and value.startswith(b"Bearer "):
                return value[7:].decode("latin-1").strip()
        return self._query().get("token", [""])[0]

    def _query(self) -> dict[str, list[str]]:
        return parse_qs(self.scope.get("query_string", b"").decode("latin-1"))

    def _last_event_id(self) -> int | None:
        raw = self._query().get("last_event_id", [""])[0]
        return int(raw) if raw.isdigit() else None

    def _same_origin(self) -> bool:
        """A browser session may only be used from Regent's own pages (no cross-site socket hijacking).

        As Django's CSRF check does: the page must come from the host the socket was opened to, or from
        CSRF_TRUSTED_ORIGINS. ALLOWED_HOSTS says nothing about origins ("*" in development lets any in).
        """
        headers = dict(self.scope.get("headers", []))
        origin = headers.get(b"origin", b"").decode("latin-1").lower()
        if not origin:
            return True  # not a browser
        host = headers.get(b"host", b"").decode("latin-1").lower()
        return (bool(host) and urlsplit(origin).netloc == host) or origin in settings.CSRF_TRUSTED_ORIGINS

    async def _catch_up(self, after: int, until: int) -> None:
        """Send what the client missed, from the audit table, before anything live."""
        if until - after > RESUME_LIMIT:
            await self.send(
                text_data=encode({"type": "resync", "last_event_id": until, "reason": "too far behind to replay"})
            )
            return
        scope = self.subscriber.scope
        while after < until:
            batch = await sync_to_async(read_events, thread_sensitive=False)(after, until)
            if not batch:
                break
            visible = [encode(e) for e in batch if e["type"] in STREAMED and scope.allows(e)]
            if visible:
                await self.send(text_data='{"type":"events","events":[' + ",".join(visible) + "]}")
            after = batch[-1]["id"]

    async def _pump(self) -> None:
        while True:
            frame = await self.subscriber.next_frame()
            if frame is None:
                await self.send(
                    text_data=encode(
                        {"type": "resync", "last_event_id": self.subscriber.sent_id, "reason": "client too slow"}
                    )
                )
                await self.close(code=CLOSE_TOO_SLOW)
                return
            if frame:
                await self.send(text_data='{"type":"events","events":[' + ",".join(frame) + "]}")
