"""The floor for the live-stream benchmark: a bare ASGI WebSocket app with no Django.

Each server process holds one Redis pub/sub subscription and fans every event out to its own
sockets; a socket sends everything pending as one frame, the same frame shape as Regent's stream.
It does the least work a fan-out server can do in Python, so Regent's figures are read against it.
Run by bench/live_stream.py: `uvicorn bench.floor_app:app --workers 2` with REDIS_URL and
FLOOR_CHANNEL set.
"""

import asyncio
import json
import os

import redis.asyncio as aioredis

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CHANNEL = os.environ.get("FLOOR_CHANNEL", "bench:floor:events")


class Socket:
    def __init__(self) -> None:
        self.pending: list[str] = []
        self.wake = asyncio.Event()


sockets: set[Socket] = set()
_subscribed: asyncio.Event | None = None
_listener: list[asyncio.Task] = []  # a strong reference: the loop holds tasks only weakly


async def _listen(subscribed: asyncio.Event) -> None:
    client = aioredis.Redis.from_url(REDIS_URL)
    async with client.pubsub() as pubsub:
        await pubsub.subscribe(CHANNEL)
        subscribed.set()
        async for message in pubsub.listen():
            if message["type"] != "message":
                continue
            texts = [json.dumps(event, separators=(",", ":")) for event in json.loads(message["data"])]
            for socket in sockets:
                socket.pending.extend(texts)
                socket.wake.set()


async def _subscription() -> None:
    global _subscribed
    if _subscribed is None:
        _subscribed = asyncio.Event()
        _listener.append(asyncio.create_task(_listen(_subscribed)))
    await _subscribed.wait()


async def _pump(socket: Socket, send) -> None:
    while True:
        await socket.wake.wait()
        socket.wake.clear()
        batch, socket.pending = socket.pending, []
        if batch:
            await send({"type": "websocket.send", "text": '{"type":"events","events":[' + ",".join(batch) + "]}"})


async def _lifespan(receive, send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _http(send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


async def app(scope, receive, send) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["type"] == "http":
        await _http(send)
        return
    await receive()  # websocket.connect
    await _subscription()
    await send({"type": "websocket.accept"})
    socket = Socket()
    sockets.add(socket)
    await send({"type": "websocket.send", "text": '{"type":"hello"}'})
    pump = asyncio.create_task(_pump(socket, send))
    try:
        while (await receive())["type"] != "websocket.disconnect":
            pass
    finally:
        sockets.discard(socket)
        pump.cancel()
