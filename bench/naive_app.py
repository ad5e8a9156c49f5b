"""The naive baseline for the live-stream benchmark: one Channels consumer per client.

Each consumer joins one group on the Redis channel layer and relays every group message as its
own frame; the producer `group_send`s each event. Run by bench/live_stream.py:
`uvicorn bench.naive_app:application --workers 2` with REDIS_URL, NAIVE_PREFIX and NAIVE_RUN set.

channels_redis drops a message without a word when a consumer's in-process receive buffer holds
`capacity` messages (it discards the oldest). So that the benchmark can say where events are lost,
this module counts those drops and reports them to Redis (hash `<prefix>:drops`, field = pid).
"""

import asyncio
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.naive_settings")
django.setup()

import redis.asyncio as aioredis  # noqa: E402
from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels_redis import core as channels_redis_core  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import path  # noqa: E402

GROUP = "events"
DROPS_KEY = f"{settings.CHANNEL_LAYERS['default']['CONFIG']['prefix']}:drops"
_drops = [0]
_reporter: list[asyncio.Task] = []


_put_nowait = channels_redis_core.BoundedQueue.put_nowait


def _counting_put_nowait(self, item) -> None:
    if self.full():
        _drops[0] += 1
    _put_nowait(self, item)


channels_redis_core.BoundedQueue.put_nowait = _counting_put_nowait


async def _report_drops() -> None:
    client = aioredis.Redis.from_url(settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]["address"])
    reported = -1
    while True:
        if _drops[0] != reported:
            reported = _drops[0]
            await client.hset(DROPS_KEY, str(os.getpid()), reported)
        await asyncio.sleep(0.5)


class RelayConsumer(AsyncWebsocketConsumer):
    groups = [GROUP]  # joined before connect() runs

    async def connect(self) -> None:
        if not _reporter:
            _reporter.append(asyncio.create_task(_report_drops()))
        await self.accept()
        await self.send(text_data='{"type":"hello"}')

    async def bench_event(self, message: dict) -> None:
        await self.send(text_data=message["text"])


async def health(scope, receive, send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


application = ProtocolTypeRouter({"http": health, "websocket": URLRouter([path("ws/", RelayConsumer.as_asgi())])})
