"""Simulated agents and dashboard sockets against a running stack, in one asyncio loop.

Agents act as a client library would: each holds one keep-alive HTTP connection, asks the decision point,
reports outcomes of decisions it was allowed, and starts workflows; a 429 or 503 is retried after its
Retry-After, a dropped connection after a short pause. Every answer is recorded with its start and end time,
so that a fault script can cut the record into the windows around each fault. Dashboard clients hold the live
stream open as the browser page does, and on any disconnect reconnect with `last_event_id` of the last event
they received (docs/live-stream.md); what each received is kept for the exactly-once check.
"""

import asyncio
import contextlib
import json
import random
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import InvalidStatus, WebSocketException

REQUEST_SECONDS = 30.0  # a request unanswered this long counts as no answer (status -1)
RECONNECT_SECONDS = 0.5
NO_ANSWER = -1
ENDPOINTS = ("evaluate", "outcome", "workflow start")


@dataclass
class Answer:
    endpoint: str
    status: int
    started: float  # time.monotonic()
    ended: float


@dataclass
class Record:
    answers: list[Answer] = field(default_factory=list)
    acknowledged: list[int] = field(default_factory=list)  # decision ids answered 2xx
    retries_after: int = 0  # answers with a Retry-After that the agent honoured
    samples: dict[str, str] = field(default_factory=dict)  # the first body of each endpoint and status but 2xx


class HttpConnection:
    """One keep-alive HTTP/1.1 connection, reopened after any failure (no HTTP library in the lock file)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: dict, headers: dict[str, str]) -> tuple[int, dict, bytes]:
        """The answer, or NO_ANSWER. A kept-alive connection the server closed while idle (uvicorn does after 5 s)
        fails before any answer arrives: the request is sent once more on a new one, as HTTP clients do."""
        for attempt in ("kept alive", "new") if self.writer is not None else ("new",):
            try:
                return await asyncio.wait_for(self._exchange(method, path, body, headers), REQUEST_SECONDS)
            except (ConnectionResetError, BrokenPipeError, asyncio.IncompleteReadError) as failed:
                self.close()
                if attempt == "new" or (isinstance(failed, asyncio.IncompleteReadError) and failed.partial):
                    return NO_ANSWER, {}, b""
            except (OSError, TimeoutError, ValueError, IndexError):
                self.close()
                return NO_ANSWER, {}, b""
        return NO_ANSWER, {}, b""

    async def _exchange(self, method: str, path: str, body: dict, headers: dict[str, str]):
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        payload = json.dumps(body).encode()
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Type: application/json\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self.writer.write(f"{head}Content-Length: {len(payload)}\r\n\r\n".encode() + payload)
        status_line = await self.reader.readuntil(b"\r\n")
        status = int(status_line.split()[1])
        answer_headers = {}
        while (line := await self.reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.decode("latin-1").partition(":")
            answer_headers[name.strip().lower()] = value.strip()
        content = await self.reader.readexactly(int(answer_headers.get("content-length", "0")))
        if answer_headers.get("connection", "").lower() == "close":
            self.close()
        return status, answer_headers, content

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class Agent:
    """One simulated agent: evaluate most often, report the outcome of some allowed decisions, start workflows."""

    def __init__(self, url: str, spec: dict, workflow: dict, think: float, record: Record, rng: random.Random):
        self.http = HttpConnection(url)
        self.auth = {"Authorization": f"Bearer {spec['key']}"}
        self.action, self.workflow, self.think = spec["action"], workflow, think
        self.record, self.rng = record, rng
        self.allowed: list[int] = []

    async def run(self, stop: asyncio.Event) -> None:
        await asyncio.sleep(self.rng.uniform(0, self.think))  # agents do not all start on the same tick
        while not stop.is_set():
            roll = self.rng.random()
            if roll < 0.2 and self.allowed:
                await self.call("outcome", "/api/v1/outcomes", self.outcome(), stop)
            elif roll < 0.25:
                path = f"/api/v1/workflows/{self.workflow['slug']}/runs"
                await self.call("workflow start", path, {"input": self.workflow["input"]}, stop)
            else:
                await self.call("evaluate", "/api/v1/decisions/evaluate", self.request(), stop)
            await self.pause(self.rng.expovariate(1 / self.think), stop)
        self.http.close()

    def request(self) -> dict:
        amount = f"{self.rng.randint(1, 500)}.00"
        return {
            "action": self.action,
            "resource": f"load/{self.rng.randint(1, 10**6)}",
            "amount": amount,
            "currency": "USD",
        }

    def outcome(self) -> dict:
        return {"decision": self.allowed.pop(), "result": "success", "cost": "0.10", "value": "1.00"}

    async def call(self, endpoint: str, path: str, body: dict, stop: asyncio.Event) -> None:
        """Ask until answered other than 429, 503 or not at all, honouring Retry-After, or until stopped."""
        while not stop.is_set():
            started = time.monotonic()
            status, headers, content = await self.http.request("POST", path, body, self.auth)
            self.record.answers.append(Answer(endpoint, status, started, time.monotonic()))
            if not 200 <= status < 300:
                self.record.samples.setdefault(f"{endpoint} {status}", content[:300].decode(errors="replace"))
            if status in (429, 503) and "retry-after" in headers:
                self.record.retries_after += 1
                await self.pause(float(headers["retry-after"]) + self.rng.uniform(0, 0.5), stop)
            elif status in (NO_ANSWER, 429, 502, 503, 504):
                await self.pause(RECONNECT_SECONDS + self.rng.uniform(0, 0.5), stop)
            else:
                if endpoint == "evaluate" and 200 <= status < 300:
                    answer = json.loads(content)
                    self.record.acknowledged.append(answer["decision_id"])
                    if answer["verdict"] == "allow":
                        self.allowed.append(answer["decision_id"])
                return

    @staticmethod
    async def pause(seconds: float, stop: asyncio.Event) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)


@dataclass
class Watcher:
    """One dashboard page's live stream: a person's session, resumed by event id after any disconnect."""

    url: str
    user: str
    session: str
    starts_after: int | None = None
    received: list[int] = field(default_factory=list)
    connects: int = 0
    refusals: int = 0
    last_refusal: str = ""
    resyncs: int = 0
    last_arrival: float = 0.0  # of the last frame of events, or of the last greeting
    connected: bool = False  # greeted on the current connection

    @property
    def last_id(self) -> int | None:
        return self.received[-1] if self.received else self.starts_after

    async def run(self, stop: asyncio.Event) -> None:
        ws = self.url.replace("http://", "ws://", 1) + "/ws/decisions/"
        headers = {"Cookie": f"sessionid={self.session}"}
        while not stop.is_set():
            target = ws if self.last_id is None else f"{ws}?last_event_id={self.last_id}"
            try:
                async with ws_connect(
                    target,
                    additional_headers=headers,
                    origin=self.url,
                    open_timeout=10,
                    close_timeout=1,
                    max_size=None,
                    proxy=None,
                ) as socket:
                    self.connects += 1
                    reading = asyncio.ensure_future(self.read(socket))
                    stopping = asyncio.ensure_future(stop.wait())
                    await asyncio.wait({reading, stopping}, return_when=asyncio.FIRST_COMPLETED)
                    for task in (reading, stopping):
                        task.cancel()
            except (OSError, TimeoutError, InvalidStatus, WebSocketException) as refused:
                self.refusals += 1
                self.last_refusal = f"{type(refused).__name__}: {refused}"[:200]
            if not stop.is_set():
                await Agent.pause(RECONNECT_SECONDS, stop)

    async def read(self, socket) -> None:
        try:
            async for text in socket:
                frame = json.loads(text)
                if frame["type"] == "hello":
                    if self.starts_after is None:
                        self.starts_after = frame["last_event_id"]
                    self.connected, self.last_arrival = True, time.monotonic()
                elif frame["type"] == "events":
                    self.received.extend(event["id"] for event in frame["events"])
                    self.last_arrival = time.monotonic()
                elif frame["type"] == "resync":
                    self.resyncs += 1
        except WebSocketException:
            return
        finally:
            self.connected = False


class Load:
    """N agents and M watchers against one stack, started and stopped together."""

    def __init__(
        self, url: str, seeded: dict, agents: int, watchers: int, think: float, seed: int = 18, stream_url: str = ""
    ):
        rng = random.Random(seed)
        self.record = Record()
        self.agents = [
            Agent(url, spec, seeded["workflow"], think, self.record, random.Random(rng.random()))
            for spec in seeded["agents"][:agents]
        ]
        sockets_at = stream_url or url  # the stream's own processes when the deployment has them (STREAM_PORT)
        self.watchers = [Watcher(sockets_at, s["user"], s["session"]) for s in seeded["sessions"][:watchers]]
        self.agents_stop, self.watchers_stop = asyncio.Event(), asyncio.Event()
        self.agent_tasks: list[asyncio.Task] = []
        self.watcher_tasks: list[asyncio.Task] = []

    async def connect_watchers(self, timeout: float = 60) -> None:
        """Open every socket and wait for each one's hello, before any agent acts."""
        self.watcher_tasks = [asyncio.ensure_future(w.run(self.watchers_stop)) for w in self.watchers]
        deadline = time.monotonic() + timeout
        while any(w.starts_after is None for w in self.watchers):
            if time.monotonic() > deadline:
                raise RuntimeError("not every dashboard socket was greeted")
            await asyncio.sleep(0.1)

    def start_agents(self) -> None:
        self.agent_tasks = [asyncio.ensure_future(a.run(self.agents_stop)) for a in self.agents]

    async def stop_agents(self) -> None:
        self.agents_stop.set()
        await asyncio.gather(*self.agent_tasks)

    async def settle_watchers(self, until: int, quiet: float = 3.0, timeout: float = 120) -> None:
        """Wait until every socket is connected and has received event `until`, or has heard nothing for `quiet`
        seconds since its greeting or last events (a resumed socket gets what it missed right after the greeting);
        then close them. A socket still reconnecting is not settled."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            now = time.monotonic()
            if all(w.connected and ((w.last_id or 0) >= until or now - w.last_arrival >= quiet) for w in self.watchers):
                break
            await asyncio.sleep(0.2)
        self.watchers_stop.set()
        await asyncio.gather(*self.watcher_tasks)
