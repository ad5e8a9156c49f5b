"""Live stream benchmark: Regent's `/ws/decisions/` against a naive Channels design and a bare ASGI floor.

Run from the repository root: `.venv/bin/python bench/live_stream.py`. It needs PostgreSQL on
127.0.0.1:5432 (role postgres, trust) and Redis on 127.0.0.1:6379, builds its own database
(`regent_bench_stream`, dropped at the end), starts three servers under uvicorn (2 workers each),
and for 1, 100 and 1,000 connected clients drives 100 decisions/s for 10 s through each:

- regent: `config.asgi:application`; a producer process calls `evaluate_action`, whose events reach
  the servers as PostgreSQL notifications when they are chained: at the decision's commit with
  AUDIT_SEQUENCING=inline, at the sequencer's commit with queued (the default on PostgreSQL, and this
  benchmark's unless the variable says otherwise; `manage.py sequence_audit` runs beside the servers, and
  latency is still counted from the decision's commit); every client holds the producing agent's key.
- naive: bench/naive_app.py, a Channels consumer per client in one group on channels_redis
  (default capacity); the producer `group_send`s each event.
- floor: bench/floor_app.py, a bare ASGI app with one pub/sub subscription per process and one
  frame per batch of pending events; the producer publishes each event.

Clients (asyncio, `websockets`) run in 1-4 processes of their own on the same two cores as the
servers. Each records when every frame arrived and works out latency, losses, duplicates and order
after the run. Every ratio is against a baseline measured in the same run; bench/README.md explains
the choices and records a run. `clients` and `produce` are this script's own subprocess roles.
"""

import argparse
import array
import asyncio
import copy
import datetime as dt
import json
import logging
import os
import resource
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import timeit
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DATABASE = "regent_bench_stream"
ADMIN_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres"  # for pg_stat_activity
BENCH_DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{BENCH_DATABASE}"
REGENT_REDIS_URL = "redis://127.0.0.1:6379/5"
BASELINE_REDIS_URL = "redis://127.0.0.1:6379/6"

# STREAM_GOAL_ONLY=1 runs only what the goal is judged on, the floor/Regent pairs at 1,000 clients: a few minutes
# where the whole run takes many more on a machine busy with other work.
GOAL_ONLY = os.environ.get("STREAM_GOAL_ONLY") == "1"
LEVELS = (1000,) if GOAL_ONLY else (1, 100, 1000)
CLIENT_PROCESSES = {1: 1, 100: 2, 1000: 4}
DESIGNS = ("floor", "regent", "naive")  # the naive one last at each level: it can leave a backlog behind
# Two diagnostics at the top level, to tell the stream server's cost from the decision path's (evaluate_action
# and PostgreSQL share the two cores with everything else): the floor while Regent's decision producer runs
# alongside (its events go to Regent's server, which has no clients then); and Regent's server fed like the
# floor, with synthetic events notified straight on its channel and no database writes. That one runs last
# of the Regent runs because its event ids run ahead of the audit chain.
FLOOR_WITH_DECISIONS, FANOUT_DESIGN = "floor+decisions", "regent-fanout"
DIAGNOSTIC_LEVEL = 1000
# The goal is judged at 1,000 clients on the median of this many floor/regent pairs run back to back:
# one pair moves by more than the margin that matters when the two cores are shared with anything else.
GOAL_PAIRS = 3
RATE = 100.0
SECONDS = 10.0
WARMUP_SECONDS = 1.0
QUIET_SECONDS = 2.0  # a client process stops once none of its sockets has had a frame for this long…
DRAIN_CAP_SECONDS = 20.0  # …or this long after the producer finished, whichever comes first
CONNECT_TIMEOUT = 90.0
SETTLE_CAP_SECONDS = 15.0
QUIET_GATE_SECONDS = 15.0  # before each run, wait at most this long…
QUIET_GATE_CORES = 0.3  # …for the machine to be this quiet
GROUP = "events"
PRODUCER_THREADS = 4
SEQUENCING = os.environ.setdefault("AUDIT_SEQUENCING", "queued")  # production's on PostgreSQL
SEQUENCED_SECONDS = 60.0  # how long the producer waits for its decisions' events to be chained, at most
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def setup_django(database_url: str, redis_url: str = "") -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DATABASE_URL"] = database_url
    os.environ["REDIS_URL"] = redis_url
    os.environ.setdefault("DB_CONN_MAX_AGE", "60")
    import django

    django.setup()


def percentile(ordered: list[float] | array.array, fraction: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# ---------------------------------------------------------------------------------------------------------
# Clients: `live_stream.py clients --url … --count N`, driven over stdin/stdout by the orchestrator.
#   → "ready <open> <failed>" once every socket has its hello; ← "go"; ← "finish <producer.json> <out>";
#   → "done" once its sockets have been quiet for QUIET_SECONDS (or DRAIN_CAP_SECONDS passed).
# ---------------------------------------------------------------------------------------------------------


@dataclass
class ClientSocket:
    frames: list[tuple[float, str]] = field(default_factory=list)
    close_code: int | None = None
    failed: str = ""


async def run_clients(url: str, count: int) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    loop = asyncio.get_running_loop()
    sockets = [ClientSocket() for _ in range(count)]
    last_frame = [time.monotonic()]
    gate = asyncio.Semaphore(50)

    async def hold(client: ClientSocket, ready: asyncio.Future) -> None:
        try:
            async with gate:
                ws = await connect(
                    url,
                    max_size=None,
                    compression=None,
                    ping_interval=None,
                    open_timeout=60,
                    close_timeout=2,
                    max_queue=None,
                )
                await asyncio.wait_for(ws.recv(), 60)  # hello
        except Exception as exc:
            client.failed = f"{type(exc).__name__}: {exc}"
            ready.set_result(False)
            return
        ready.set_result(True)
        frames, clock = client.frames, time.time
        try:
            async for text in ws:
                frames.append((clock(), text))
                last_frame[0] = time.monotonic()
            client.close_code = ws.close_code  # the server closed the socket
        except ConnectionClosed:
            client.close_code = ws.close_code
        except asyncio.CancelledError:
            await ws.close()
            raise

    readies = [loop.create_future() for _ in sockets]
    tasks = [asyncio.create_task(hold(client, ready)) for client, ready in zip(sockets, readies, strict=True)]
    opened = sum(await asyncio.gather(*readies))
    print(f"ready {opened} {count - opened}", flush=True)

    async def line() -> str:
        return (await loop.run_in_executor(None, sys.stdin.readline)).strip()

    assert await line() == "go"
    cpu_at_go = process_cpu_seconds()
    command, producer_file, out_file = (await line()).split()
    assert command == "finish"
    finished = time.monotonic()
    while True:
        now = time.monotonic()
        if now - last_frame[0] >= QUIET_SECONDS or now - finished >= DRAIN_CAP_SECONDS:
            break
        await asyncio.sleep(0.1)
    cpu_seconds = process_cpu_seconds() - cpu_at_go
    open_at_end = sum(1 for client in sockets if client.close_code is None and not client.failed)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    write_client_results(sockets, json.loads(Path(producer_file).read_text()), Path(out_file), cpu_seconds, open_at_end)
    print("done", flush=True)


def process_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def write_client_results(
    sockets: list[ClientSocket], produced: dict, out: Path, cpu_seconds: float, open_at_end: int
) -> None:
    """Per socket: delivered, lost, duplicated, foreign, reordered, resyncs. Latencies as doubles, socket
    after socket: from commit (`.bin`) and from publish (`.published.bin`)."""
    expected = {int(k): v for k, v in produced["events"].items()}
    committed = {int(k): v for k, v in produced["committed"].items()}
    published = {int(k): v for k, v in produced["published"].items()}
    warmup = set(produced["warmup"])
    latencies, from_publish = array.array("d"), array.array("d")
    stats = []
    for client in sockets:
        seen: set[int] = set()
        duplicated = foreign = reordered = resyncs = 0
        last = 0
        for received, text in client.frames:
            message = json.loads(text)
            if message.get("type") == "resync":
                resyncs += 1
                continue
            if message.get("type") != "events":
                continue
            for event in message["events"]:
                event_id = event["id"]
                if event_id in warmup:
                    continue
                if expected.get(event_id) != event["data"].get("id"):
                    foreign += 1
                    continue
                if event_id in seen:
                    duplicated += 1
                    continue
                if event_id < last:
                    reordered += 1
                last = event_id
                seen.add(event_id)
                latencies.append((received - committed[event_id]) * 1000)
                from_publish.append((received - published[event_id]) * 1000)
        stats.append(
            {
                "delivered": len(seen),
                "lost": len(expected) - len(seen),
                "duplicated": duplicated,
                "foreign": foreign,
                "reordered": reordered,
                "resyncs": resyncs,
                "failed": client.failed,
                "close_code": client.close_code,
                "frames": len(client.frames),
            }
        )
    out.with_suffix(".bin").write_bytes(latencies.tobytes())
    out.with_suffix(".published.bin").write_bytes(from_publish.tobytes())
    out.write_text(json.dumps({"sockets": stats, "cpu_seconds": cpu_seconds, "open_at_end": open_at_end}))


# ---------------------------------------------------------------------------------------------------------
# Producer: `live_stream.py produce --design …`: paced events, the commit (or publish) time of each.
# ---------------------------------------------------------------------------------------------------------


def paced(count: int, rate: float, start: float):
    for i in range(count):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        yield i


def produce_regent(agent_id: int, warmup: int, count: int, rate: float) -> dict:
    """Decisions through evaluate_action, from PRODUCER_THREADS threads on one shared schedule (one thread
    cannot keep 100/s when the machine is busy). Commit time comes from an on-commit hook registered before
    the decision's own (publishing) one, in an outer transaction: the moment after COMMIT returned."""
    setup_django(os.environ["DATABASE_URL"], os.environ["REDIS_URL"])
    from django.db import connection, transaction

    from audit.models import AuditEvent
    from governance.evaluation import ActionRequest, evaluate_action
    from orchestration.models import Agent

    agent = Agent.objects.get(pk=agent_id)
    committed: dict[int, float] = {}  # decision id → commit time, measured decisions only
    at_offsets: list[float] = []
    warmup_decisions: list[int] = []
    schedule = iter(range(warmup + count))
    schedule_lock = threading.Lock()
    started = time.monotonic()

    def work() -> None:
        try:
            while True:
                with schedule_lock:
                    i = next(schedule, None)
                if i is None:
                    return
                delay = started + i / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                moment: list[float] = []
                with transaction.atomic():
                    transaction.on_commit(lambda moment=moment: moment.append(time.time()))
                    decision = evaluate_action(agent, ActionRequest(action="report.generate", resource=f"s-{i}"))
                if i < warmup:
                    warmup_decisions.append(decision.pk)
                else:
                    committed[decision.pk] = moment[0]
                    at_offsets.append((moment[0] - decision.created_at.timestamp()) * 1000)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(PRODUCER_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wait_until_sequenced()
    seqs = dict(
        AuditEvent.objects.filter(
            kind="decision.created",
            subject_type="decision",
            subject_id__in=[str(pk) for pk in [*committed, *warmup_decisions]],
        ).values_list("subject_id", "seq")
    )
    at_offsets.sort()
    by_seq = {seqs[str(pk)]: t for pk, t in committed.items()}
    return {
        "events": {seqs[str(pk)]: pk for pk in committed},
        "committed": by_seq,
        "published": by_seq,  # the commit sends the notification (governance migration 0010)
        "warmup": [seqs[str(pk)] for pk in warmup_decisions],
        "rate": achieved_rate(committed.values()),
        "cpu_seconds": process_cpu_seconds(),
        "at_to_commit_ms": {"p50": percentile(at_offsets, 0.5), "p99": percentile(at_offsets, 0.99)},
    }


def wait_until_sequenced() -> None:
    """Queued sequencing: the producer's events get their ids (`seq`) when the sequencer chains them."""
    from audit.models import PendingEvent

    deadline = time.monotonic() + SEQUENCED_SECONDS
    while PendingEvent.objects.exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"audit events still queued after {SEQUENCED_SECONDS:.0f} s: is the sequencer running?")
        time.sleep(0.05)


def achieved_rate(times) -> float:
    times = sorted(times)
    return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else float("nan")


def synthetic_event(template: dict, number: int) -> dict:
    """An event shaped and sized like Regent's decision.created: number is its id and its decision's."""
    event = copy.deepcopy(template)
    event["id"] = number
    event["at"] = dt.datetime.now(dt.UTC).isoformat()
    event["subject"]["id"] = str(number)
    event["data"]["id"] = number
    event["data"]["resource"] = f"stream-{number}"
    return event


def produce_regent_fanout(template: dict, warmup: int, count: int, rate: float) -> dict:
    """Notifications shaped like the audit trigger's, of synthetic events numbered on from the chain's head."""
    setup_django(os.environ["DATABASE_URL"], os.environ["REDIS_URL"])
    from django.db import connection

    from audit import events
    from audit.chain import last_event_id

    head = last_event_id()
    committed: dict[int, float] = {}
    with connection.cursor() as cursor:
        for i in paced(warmup + count, rate, time.monotonic()):
            event = synthetic_event(template, head + i + 1)
            row = {
                "seq": event["id"],
                "kind": event["type"],
                "occurred_at": event["at"],
                "department_id": event["department_id"],
                "subject_type": event["subject"]["type"],
                "subject_id": event["subject"]["id"],
                "after": event["data"],
            }
            if i >= warmup:
                committed[head + i + 1] = time.time()
            cursor.execute("SELECT pg_notify(%s, %s)", [events.NOTIFY_CHANNEL, json.dumps([row])])
    result = baseline_result(warmup, committed)
    result["warmup"] = [head + i + 1 for i in range(warmup)]
    return result


def produce_floor(channel: str, template: dict, warmup: int, count: int, rate: float) -> dict:
    import redis

    client = redis.Redis.from_url(BASELINE_REDIS_URL)
    committed: dict[int, float] = {}
    for i in paced(warmup + count, rate, time.monotonic()):
        payload = json.dumps([synthetic_event(template, i + 1)], separators=(",", ":"))
        if i >= warmup:
            committed[i + 1] = time.time()
        client.publish(channel, payload)
    return baseline_result(warmup, committed)


def produce_naive(prefix: str, template: dict, warmup: int, count: int, rate: float) -> dict:
    from channels_redis.core import RedisChannelLayer

    over_capacity = [0]

    class OverCapacity(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "over capacity" in record.msg:
                over_capacity[0] += record.args[0]

    channels_logger = logging.getLogger("channels_redis.core")
    channels_logger.addHandler(OverCapacity())
    channels_logger.setLevel(logging.INFO)

    async def run() -> dict:
        layer = RedisChannelLayer(hosts=[BASELINE_REDIS_URL], prefix=prefix)
        committed: dict[int, float] = {}
        started = time.monotonic()
        for i in range(warmup + count):
            delay = started + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            event = json.dumps(synthetic_event(template, i + 1), separators=(",", ":"))
            if i >= warmup:
                committed[i + 1] = time.time()
            await layer.group_send(GROUP, {"type": "bench.event", "text": '{"type":"events","events":[' + event + "]}"})
        await layer.close_pools()
        return baseline_result(warmup, committed)

    result = asyncio.run(run())
    result["over_capacity"] = over_capacity[0]
    return result


def baseline_result(warmup: int, committed: dict[int, float]) -> dict:
    return {
        "events": {number: number for number in committed},
        "committed": committed,
        "published": committed,  # no database: the event is published the moment it exists
        "warmup": list(range(1, warmup + 1)),
        "rate": achieved_rate(committed.values()),
        "cpu_seconds": process_cpu_seconds(),
    }


# ---------------------------------------------------------------------------------------------------------
# The orchestrator: database, servers, one run per design and level, the tables.
# ---------------------------------------------------------------------------------------------------------


def create_database() -> None:
    sys.path.insert(0, str(ROOT))
    from bench import databases

    databases.recreate(BENCH_DATABASE)


def drop_database() -> None:
    from django.db import connections

    from bench import databases

    connections.close_all()
    databases.drop(BENCH_DATABASE)


def seed() -> tuple[int, str, dict]:
    """One department, a few agents, a key for the agent that produces every event; and one decision
    whose live event is the template for the baselines' synthetic events."""
    from audit import chain
    from audit.events import as_stream_event
    from audit.models import AuditEvent
    from governance.evaluation import ActionRequest, evaluate_action
    from orchestration.keys import issue_key
    from orchestration.models import Agent, Capability, Department, ModelProvider

    department = Department.objects.create(
        name="Stream Bench", slug="stream-bench", monthly_budget=Decimal("1000000"), default_verdict="allow"
    )
    capability = Capability.objects.create(code="report.generate")
    provider = ModelProvider.objects.create(name="Bench LLM", kind=ModelProvider.Kind.SIMULATED)
    agents = []
    for slug in ("stream-producer", "stream-quiet-1", "stream-quiet-2"):
        agent = Agent.objects.create(
            name=slug.replace("-", " ").title(),
            slug=slug,
            department=department,
            provider=provider,
            model_name="sim",
            monthly_budget=Decimal("1000000"),
        )
        agent.capabilities.set([capability])
        agents.append(agent)
    key = issue_key(agents[0])
    for agent in agents[1:]:
        issue_key(agent)
    decision = evaluate_action(agents[0], ActionRequest(action="report.generate", resource="stream-template"))
    chain.integrate_all()  # queued: what seeding queued is chained before the sequencer starts
    event = AuditEvent.objects.get(kind="decision.created", subject_type="decision", subject_id=str(decision.pk))
    return agents[0].pk, key, json.loads(json.dumps(as_stream_event(event), default=str))


SERVER_START_SECONDS = 180  # a loaded shared machine takes its time to import Django in two workers
PORTS = range(18100, 18200)  # the loopback ports this machine's benchmarks may listen on


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


@dataclass
class Server:
    design: str
    process: subprocess.Popen
    port: int
    url: str
    log: Path


def start_server(design: str, app: str, environment: dict, path: str, workdir: Path) -> Server:
    port = free_port()
    log = workdir / f"{design}-server.log"
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        f"--port={port}",
        "--workers",
        "2",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    with log.open("wb") as handle:
        process = subprocess.Popen(  # noqa: S603 (a fixed command line)
            command, cwd=ROOT, env=environment, stdout=handle, stderr=subprocess.STDOUT
        )
    server = Server(design, process, port, f"ws://127.0.0.1:{port}{path}", log)
    health = "/healthz" if design == "regent" else "/"
    deadline, answered = time.monotonic() + SERVER_START_SECONDS, 0
    while answered < 6:  # several answers, so that both workers are likely up
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                sock.sendall(f"GET {health} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
                if b" 200 " in sock.recv(200):
                    answered += 1
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            stop_process(process)
            raise RuntimeError(f"{design} server did not start (exit code {process.poll()}); see {log}")
        time.sleep(0.3)
    return server


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a process and its children (uvicorn's master and workers, PostgreSQL's backends)."""
    total, pids = 0.0, [pid]
    while pids:
        current = pids.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(v) for v in fields[11:15]) / CLOCK_TICKS  # its own and its reaped children's
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        pids.extend(int(child) for child in children)
    return total


def process_cpu_of(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_busy_seconds() -> float:
    """Busy CPU seconds of the whole machine since boot, to show what else was running."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    return (sum(fields) - fields[3] - fields[4]) / CLOCK_TICKS


def service_pids() -> dict[str, int]:
    """PostgreSQL's postmaster and the Redis server, whose CPU the runs also spend (shared with others)."""
    import redis

    pids = {"redis": int(redis.Redis.from_url(BASELINE_REDIS_URL).info("server")["process_id"])}
    for candidate in Path("/proc").iterdir():
        if candidate.name.isdigit():
            try:
                command = (candidate / "cmdline").read_bytes().split(b"\0")
                parent = int((candidate / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            if command and command[0].endswith(b"/postgres") and b"-D" in command and parent <= 1:
                pids["postgres"] = int(candidate.name)
    return pids


@dataclass
class CpuMeter:
    """CPU seconds spent between start() and stop(): servers, PostgreSQL (all of it, and the backends
    connected to the bench database, sampled every 0.2 s), Redis, the whole machine."""

    server_pid: int
    services: dict[str, int]
    spent: dict[str, float] = field(default_factory=dict)

    def _sample(self) -> dict[str, float]:
        sample = {name: tree_cpu_seconds(pid) for name, pid in self.services.items()}
        sample["server"] = tree_cpu_seconds(self.server_pid)
        sample["machine"] = machine_busy_seconds()
        return sample

    def start(self) -> None:
        self._stopping = threading.Event()
        self._backends: dict[int, list[float]] = {}  # pid → [cpu when first seen (0 if born later), last]
        self._first_sample = True
        self._watcher = threading.Thread(target=self._watch_backends)
        self._start = self._sample()
        self._watcher.start()

    def stop(self) -> None:
        end = self._sample()
        self._stopping.set()
        self._watcher.join()
        self.spent = {name: end[name] - self._start[name] for name in end}
        self.spent["postgres_bench"] = sum(last - first for first, last in self._backends.values())

    def _watch_backends(self) -> None:
        import psycopg

        with psycopg.connect(ADMIN_DATABASE_URL, autocommit=True) as connection:
            while True:
                rows = connection.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s", [BENCH_DATABASE]
                ).fetchall()
                for (pid,) in rows:
                    cpu = process_cpu_of(pid)
                    if cpu is None:
                        continue
                    seen = self._backends.setdefault(pid, [cpu if self._first_sample else 0.0, cpu])
                    seen[1] = cpu
                self._first_sample = False
                if self._stopping.wait(0.2):
                    return


def wait_for_quiet() -> float:
    """Wait (up to QUIET_GATE_SECONDS) until the machine is below QUIET_GATE_CORES busy over one second,
    the other sessions on this machine being what makes it busy; return the last reading, in cores."""
    deadline = time.monotonic() + QUIET_GATE_SECONDS
    while True:
        before = machine_busy_seconds()
        time.sleep(1.0)
        cores = machine_busy_seconds() - before
        if cores < QUIET_GATE_CORES or time.monotonic() > deadline:
            return cores


def settle(server: Server) -> float:
    """Wait until the server is idle again (below 5% of a core over 0.5 s); return how long that took."""
    started = time.monotonic()
    while time.monotonic() - started < SETTLE_CAP_SECONDS:
        before = tree_cpu_seconds(server.process.pid)
        time.sleep(0.5)
        if tree_cpu_seconds(server.process.pid) - before < 0.025:
            break
    return time.monotonic() - started


@dataclass
class Latencies:
    p50: float
    p99: float
    max: float
    worst_client_p99: float

    @classmethod
    def of(cls, per_socket: list[array.array]) -> "Latencies":
        ordered = sorted(value for own in per_socket for value in own)
        worst = max((percentile(sorted(own), 0.99) for own in per_socket if own), default=float("nan"))
        return cls(percentile(ordered, 0.5), percentile(ordered, 0.99), ordered[-1] if ordered else float("nan"), worst)


@dataclass
class Result:
    design: str
    clients: int
    connected: int
    events: int
    rate: float
    min_ratio: float
    lost: int
    duplicated: int
    foreign: int
    reordered: int
    resyncs: int
    closed_early: int
    from_commit: Latencies
    from_publish: Latencies
    cpu: dict[str, float]
    client_cpu: float
    producer_cpu: float
    background_cores: float
    window: float
    frames_per_client: float
    extra: dict = field(default_factory=dict)

    @property
    def delivered(self) -> int:
        return self.events * self.clients - self.lost

    @property
    def rest_cpu(self) -> float:
        ours = self.cpu["server"] + self.cpu["postgres"] + self.cpu["redis"] + self.client_cpu + self.producer_cpu
        return max(0.0, self.cpu["machine"] - ours)


def naive_drops(prefix: str) -> int:
    import redis

    values = redis.Redis.from_url(BASELINE_REDIS_URL).hgetall(f"{prefix}:drops")
    return sum(int(v) for v in values.values())


def run_level(
    server: Server,
    clients: int,
    producers: list[tuple[list[str], dict]],
    services: dict[str, int],
    workdir: Path,
    round_: int = 1,
) -> Result:
    """Connect the clients, produce for WARMUP_SECONDS + SECONDS, wait for the stream to go quiet. The clients
    expect the first producer's events; any other producer only adds its load."""
    tag = f"{server.design}-{clients}" + (f"-round{round_}" if round_ > 1 else "")
    processes = CLIENT_PROCESSES[clients]
    shares = [clients // processes + (1 if i < clients % processes else 0) for i in range(processes)]
    outs = [workdir / f"{tag}-clients-{n}.json" for n in range(processes)]
    producer_files = [workdir / f"{tag}-producer-{n}.json" for n in range(len(producers))]
    producer_file = producer_files[0]
    meter = CpuMeter(server.process.pid, services)
    children: list[subprocess.Popen] = []
    try:
        for share in shares:
            children.append(
                subprocess.Popen(  # noqa: S603 (this script, fixed arguments)
                    [sys.executable, __file__, "clients", "--url", server.url, "--count", str(share)],
                    cwd=ROOT,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )
        client_procs = list(children)
        connected = sum(int(read_line(proc, CONNECT_TIMEOUT).split()[1]) for proc in client_procs)
        background = wait_for_quiet()
        meter.start()
        started = time.monotonic()
        for proc in client_procs:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        for (command, environment), out in zip(producers, producer_files, strict=True):
            with out.with_suffix(".log").open("wb") as log:
                children.append(
                    subprocess.Popen(  # noqa: S603 (this script, fixed arguments)
                        [sys.executable, __file__, "produce", *command, "--out", str(out)],
                        cwd=ROOT,
                        env=environment,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
        for child, out in zip(children[len(client_procs) :], producer_files, strict=True):
            if child.wait(timeout=WARMUP_SECONDS + SECONDS + 90) != 0:
                raise RuntimeError(f"producer failed; see {out.with_suffix('.log')}")
        for proc, out in zip(client_procs, outs, strict=True):
            proc.stdin.write(f"finish {producer_file} {out}\n")
            proc.stdin.flush()
        for proc in client_procs:
            read_line(proc, DRAIN_CAP_SECONDS + 120)
        window = time.monotonic() - started
        meter.stop()
        for proc in client_procs:
            proc.wait(timeout=30)
    finally:
        for child in children:
            stop_process(child)
    produced = json.loads(producer_file.read_text())
    sockets, client_cpu = [], 0.0
    from_commit: list[array.array] = []
    from_publish: list[array.array] = []
    for out in outs:
        data = json.loads(out.read_text())
        sockets.extend(data["sockets"])
        client_cpu += data["cpu_seconds"]
        for suffix, into in ((".bin", from_commit), (".published.bin", from_publish)):
            values = array.array("d")
            values.frombytes(out.with_suffix(suffix).read_bytes())
            start = 0
            for stat in data["sockets"]:  # stored socket after socket
                into.append(values[start : start + stat["delivered"]])
                start += stat["delivered"]
    expected = len(produced["events"])
    result = Result(
        design=server.design,
        clients=clients,
        connected=connected,
        events=expected,
        rate=produced["rate"],
        min_ratio=min((s["delivered"] / expected for s in sockets), default=0.0),
        lost=sum(s["lost"] for s in sockets),
        duplicated=sum(s["duplicated"] for s in sockets),
        foreign=sum(s["foreign"] for s in sockets),
        reordered=sum(s["reordered"] for s in sockets),
        resyncs=sum(s["resyncs"] for s in sockets),
        closed_early=sum(1 for s in sockets if s["close_code"] is not None or s["failed"]),
        from_commit=Latencies.of(from_commit),
        from_publish=Latencies.of(from_publish),
        cpu=meter.spent,
        client_cpu=client_cpu,
        producer_cpu=sum(json.loads(out.read_text())["cpu_seconds"] for out in producer_files),
        background_cores=background,
        window=window,
        frames_per_client=sum(s["frames"] for s in sockets) / max(1, len(sockets)),
    )
    for name in ("at_to_commit_ms", "over_capacity"):
        if name in produced:
            result.extra[name] = produced[name]
    return result


def read_line(process: subprocess.Popen, timeout: float) -> str:
    """One line from a child's stdout, or an error after `timeout` seconds."""
    import selectors

    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            raise TimeoutError(f"no answer from client process {process.pid} in {timeout:.0f}s")
    line = process.stdout.readline()
    if not line:
        raise RuntimeError(f"client process {process.pid} exited with {process.wait()}")
    return line.strip()


def print_table(headers: list[str], rows: list[list]) -> None:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells:
        print("| " + " | ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) + " |")


def _cell(value) -> str:
    if isinstance(value, float):
        if value != value:
            return "–"
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def report(results: list[Result], pairs: list[tuple[Result, Result]]) -> None:
    print("\n## Delivery (per client: every event produced after it connected, 1,000 per run)\n")
    print_table(
        [
            "design",
            "clients",
            "connected",
            "events",
            "producer rate/s",
            "min delivered",
            "lost",
            "duplicated",
            "foreign",
            "out of order",
            "resyncs",
            "closed early",
            "frames/client",
        ],
        [
            [
                r.design,
                r.clients,
                r.connected,
                r.events,
                r.rate,
                f"{r.min_ratio:.4f}",
                r.lost,
                r.duplicated,
                r.foreign,
                r.reordered,
                r.resyncs,
                r.closed_early,
                r.frames_per_client,
            ]
            for r in results
        ],
    )
    print("\n## Latency, ms: client receipt minus commit (Regent) or publish (baselines); and minus publish\n")
    print_table(
        ["design", "clients", "p50", "p99", "worst client p99", "max", "from publish: p50", "p99"],
        [
            [
                r.design,
                r.clients,
                r.from_commit.p50,
                r.from_commit.p99,
                r.from_commit.worst_client_p99,
                r.from_commit.max,
                r.from_publish.p50,
                r.from_publish.p99,
            ]
            for r in results
        ],
    )
    print("\n## CPU seconds in each run's window (everything shares the two cores)\n")
    print_table(
        [
            "design",
            "clients",
            "busy before (cores)",
            "window s",
            "servers",
            "clients",
            "producer",
            "PostgreSQL: bench db",
            "all",
            "Redis",
            "rest of machine",
            "server µs / delivered event",
        ],
        [
            [
                r.design,
                r.clients,
                r.background_cores,
                r.window,
                r.cpu["server"],
                r.client_cpu,
                r.producer_cpu,
                r.cpu["postgres_bench"],
                r.cpu["postgres"],
                r.cpu["redis"],
                r.rest_cpu,
                r.cpu["server"] * 1e6 / max(1, r.delivered),
            ]
            for r in results
        ],
    )
    by = {(r.design, r.clients): r for r in results}
    print("\n## Ratios against the baselines of the same run\n")
    rows = []
    for clients in LEVELS:
        floor, regent, naive = by.get(("floor", clients)), by.get(("regent", clients)), by.get(("naive", clients))
        if floor and regent and naive:
            rows.append(
                [
                    clients,
                    regent.from_commit.p50 / floor.from_commit.p50,
                    regent.from_commit.p99 / floor.from_commit.p99,
                    regent.from_publish.p99 / floor.from_publish.p99,
                    naive.from_commit.p99 / floor.from_commit.p99,
                    (regent.cpu["server"] / max(1, regent.delivered)) / (floor.cpu["server"] / max(1, floor.delivered)),
                ]
            )
    print_table(
        [
            "clients",
            "regent/floor p50",
            "regent/floor p99",
            "same, from publish",
            "naive/floor p99",
            "regent/floor server CPU per event",
        ],
        rows,
    )
    floor = by.get(("floor", DIAGNOSTIC_LEVEL))
    for design, meaning in (
        (FLOOR_WITH_DECISIONS, "the floor while Regent's decision producer and PostgreSQL work alongside"),
        (FANOUT_DESIGN, "Regent's server fed synthetic events, no decisions, no database writes"),
    ):
        diagnostic = by.get((design, DIAGNOSTIC_LEVEL))
        if diagnostic and floor:
            print(
                f"\n{design} ({meaning}) against the floor at {DIAGNOSTIC_LEVEL:,} clients: "
                f"p50 {diagnostic.from_commit.p50 / floor.from_commit.p50:.2f}×, "
                f"p99 {diagnostic.from_commit.p99 / floor.from_commit.p99:.2f}×"
            )
    print()
    for r in results:
        if r.extra:
            print(f"- {r.design} × {r.clients}: {json.dumps(r.extra)}")
    print(f"\n## Floor and Regent back to back at {DIAGNOSTIC_LEVEL:,} clients ({len(pairs)} pairs)\n")
    ratios = [regent.from_commit.p99 / floor.from_commit.p99 for floor, regent in pairs]
    print_table(
        ["pair", "floor p50", "floor p99", "regent p50", "regent p99", "regent/floor p99", "regent lost", "regent dup"],
        [
            [
                n,
                f.from_commit.p50,
                f.from_commit.p99,
                r.from_commit.p50,
                r.from_commit.p99,
                f"{ratio:.2f}",
                r.lost,
                r.duplicated,
            ]
            for n, ((f, r), ratio) in enumerate(zip(pairs, ratios, strict=True), start=1)
        ],
    )
    everything = results + [result for pair in pairs for result in pair]
    clean = all(
        r.lost == 0 and r.duplicated == 0 and r.connected == r.clients for r in everything if r.design == "regent"
    )
    print("\n## Goals\n")
    print(f"- Regent: zero lost or duplicated events at every level and in every pair: {'met' if clean else 'MISSED'}")
    if ratios:
        median = statistics.median(ratios)
        print(
            f"- Regent p99 at {DIAGNOSTIC_LEVEL:,} clients within 2× the floor's, median of {len(ratios)} pairs: "
            f"{median:.2f}× (pairs: {', '.join(f'{r:.2f}' for r in ratios)}): {'met' if median <= 2 else 'MISSED'}"
        )


# ---------------------------------------------------------------------------------------------------------
# Where the time goes: Regent's per-event and per-frame costs, measured in this process.
# ---------------------------------------------------------------------------------------------------------


def breakdown(template: dict, agent_id: int) -> None:
    from channels.auth import AuthMiddlewareStack
    from channels.generic.websocket import AsyncWebsocketConsumer
    from channels.routing import URLRouter
    from django.urls import path

    from dashboard.stream.hub import Hub, Subscriber, encode, read_events
    from dashboard.stream.scope import StreamScope

    print("\n## Where Regent's time goes (this process, no sockets)\n")
    rows = []
    event = synthetic_event(template, 1)
    text = encode(event)
    n = 20_000
    rows.append(
        [
            "encode one event (json.dumps, once per event per process)",
            timeit.timeit(lambda: encode(event), number=n) / n * 1e6,
            f"{len(text)} bytes",
        ]
    )
    rows.append(
        [
            "json.loads of one published message (once per message per process)",
            timeit.timeit(lambda: json.loads("[" + text + "]"), number=n) / n * 1e6,
            "",
        ]
    )
    scope = StreamScope(all_departments=True, agent_id=agent_id)
    rows.append(
        [
            "scope.allows(event) (once per event per socket)",
            timeit.timeit(lambda: scope.allows(event), number=n) / n * 1e6,
            "",
        ]
    )
    batch = [text] * 10
    rows.append(
        [
            "build a frame of 10 events (once per frame per socket)",
            timeit.timeit(lambda: '{"type":"events","events":[' + ",".join(batch) + "]}", number=n) / n * 1e6,
            "",
        ]
    )

    async def fan_out(subscribers: int) -> float:
        hub = Hub()
        hub.last_seq = 0
        members = [Subscriber(scope) for _ in range(subscribers)]
        for member in members:
            hub.register(member)
        rounds = 200
        started = time.perf_counter()
        for i in range(1, rounds + 1):
            hub.accept([dict(event, id=i)])
            for member in members:
                member.pending.clear()
        return (time.perf_counter() - started) / rounds * 1e6

    for subscribers in (500,):
        per_event = asyncio.run(fan_out(subscribers))
        rows.append(
            [
                f"hub.accept: one event to {subscribers} subscribers (one worker's share)",
                per_event,
                f"{per_event / subscribers:.2f} µs per subscriber",
            ]
        )

    async def channels_send(frames: int) -> tuple[float, float]:
        """Per-frame cost of consumer.send through AuthMiddlewareStack against a bare ASGI send."""
        sent = [0]

        async def raw_send(message: dict) -> None:
            sent[0] += 1

        class Sender(AsyncWebsocketConsumer):
            channel_layer_alias = "__no_channel_layer__"

            async def connect(self) -> None:
                await self.accept()
                frame = '{"type":"events","events":[' + text + "]}"
                started = time.perf_counter()
                for _ in range(frames):
                    await self.send(text_data=frame)
                timings.append((time.perf_counter() - started) / frames * 1e6)
                await self.close()

        timings: list[float] = []
        app = AuthMiddlewareStack(URLRouter([path("ws/", Sender.as_asgi())]))
        queue: asyncio.Queue = asyncio.Queue()
        await queue.put({"type": "websocket.connect"})
        scope_ = {"type": "websocket", "path": "/ws/", "headers": [], "query_string": b"", "subprotocols": []}

        async def receive() -> dict:
            return await queue.get()

        task = asyncio.create_task(app(scope_, receive, raw_send))
        while not timings:
            await asyncio.sleep(0.01)
        await queue.put({"type": "websocket.disconnect", "code": 1000})
        await asyncio.wait_for(task, 5)
        started = time.perf_counter()
        for _ in range(frames):
            await raw_send({"type": "websocket.send", "text": text})
        return timings[0], (time.perf_counter() - started) / frames * 1e6

    via_channels, bare = asyncio.run(channels_send(20_000))
    rows.append(
        ["consumer.send via Channels + AuthMiddlewareStack (per frame)", via_channels, f"bare ASGI send {bare:.2f} µs"]
    )

    async def dispatch_hop(rounds: int) -> float:
        """What Channels adds to every handler it dispatches (each group message, in the naive design)."""
        from channels.db import aclose_old_connections

        started = time.perf_counter()
        for _ in range(rounds):
            await aclose_old_connections()
        return (time.perf_counter() - started) / rounds * 1e6

    rows.append(
        [
            "naive only: Channels' per-message dispatch hop (aclose_old_connections)",
            asyncio.run(dispatch_hop(2_000)),
            "a thread hop per group message per consumer",
        ]
    )
    for after, label in ((10**9, "nothing new (the 1 s poll, usually)"), (0, "100 events (a gap fill)")):
        read_events(after, limit=100)
        rounds = 50
        started = time.perf_counter()
        for _ in range(rounds):
            read_events(after, limit=100)
        rows.append([f"read_events from PostgreSQL: {label}", (time.perf_counter() - started) / rounds * 1e6, ""])
    print_table(["operation", "µs", "note"], rows)


# ---------------------------------------------------------------------------------------------------------


def main() -> None:
    began = time.monotonic()
    print("# Live stream benchmark")
    print(
        f"\n{dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; {os.cpu_count()} cores; "
        f"load average at start {os.getloadavg()[0]:.2f}; Python {sys.version.split()[0]}"
    )
    print(
        f"{RATE:.0f} decisions/s for {SECONDS:.0f} s per run after {WARMUP_SECONDS:.0f} s of warm-up; "
        f"clients in {CLIENT_PROCESSES} processes; uvicorn --workers 2 for every server; "
        f"audit sequencing {SEQUENCING}."
    )
    create_database()
    setup_django(BENCH_DATABASE_URL)
    workdir = Path(tempfile.mkdtemp(prefix="regent-bench-stream-"))
    servers: dict[str, Server] = {}
    sequencer: subprocess.Popen | None = None
    run_id = secrets.token_hex(4)
    floor_channel, naive_prefix = f"bench:floor:{run_id}", f"bench-naive-{run_id}"
    try:
        agent_id, key, template = seed()
        template_file = workdir / "template.json"
        template_file.write_text(json.dumps(template))
        base_env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")}
        regent_env = dict(
            base_env,
            DATABASE_URL=BENCH_DATABASE_URL,
            REDIS_URL=REGENT_REDIS_URL,
            SECRET_KEY=secrets.token_urlsafe(50),
            DEBUG="true",
            DB_CONN_MAX_AGE="60",
            LOG_LEVEL="WARNING",
        )
        servers["floor"] = start_server(
            "floor",
            "bench.floor_app:app",
            dict(base_env, REDIS_URL=BASELINE_REDIS_URL, FLOOR_CHANNEL=floor_channel),
            "/ws/",
            workdir,
        )
        if SEQUENCING == "queued":
            with (workdir / "sequencer.log").open("wb") as log:
                sequencer = subprocess.Popen(
                    [sys.executable, "manage.py", "sequence_audit"], cwd=ROOT, env=regent_env, stdout=log, stderr=log
                )
        servers["regent"] = start_server(
            "regent", "config.asgi:application", regent_env, f"/ws/decisions/?token={key}", workdir
        )
        servers["naive"] = start_server(
            "naive",
            "bench.naive_app:application",
            dict(base_env, REDIS_URL=BASELINE_REDIS_URL, NAIVE_PREFIX=naive_prefix),
            "/ws/",
            workdir,
        )
        common = ["--rate", str(RATE), "--seconds", str(SECONDS), "--warmup", str(WARMUP_SECONDS)]
        common += ["--template", str(template_file)]
        floor_producer = (["--design", "floor", "--channel", floor_channel, *common], base_env)
        regent_producer = (["--design", "regent", "--agent", str(agent_id), *common], dict(regent_env, DEBUG="false"))
        fanout_producer = (["--design", FANOUT_DESIGN, *common], dict(regent_env, DEBUG="false"))
        naive_producer = (["--design", "naive", "--prefix", naive_prefix, *common], base_env)
        runs = {  # design → (server, producers)
            "floor": (servers["floor"], [floor_producer]),
            "regent": (servers["regent"], [regent_producer]),
            FLOOR_WITH_DECISIONS: (
                replace(servers["floor"], design=FLOOR_WITH_DECISIONS),
                [floor_producer, regent_producer],
            ),
            FANOUT_DESIGN: (replace(servers["regent"], design=FANOUT_DESIGN), [fanout_producer]),
            "naive": (servers["naive"], [naive_producer]),
        }
        services = service_pids()
        results, repeats = [], []
        for clients in LEVELS:
            for design, round_ in schedule(clients):
                server, producers = runs[design]
                drops_before = naive_drops(naive_prefix) if design == "naive" else 0
                errors_before = server.log.read_text(errors="replace").count("Exception in ASGI application")
                again = ", again" if round_ > 1 else ""
                print(f"… {design} × {clients} clients{again}", end="", flush=True)
                result = run_level(server, clients, producers, services, workdir, round_)
                if design == "naive":
                    time.sleep(1.0)  # the servers report their drop counts every 0.5 s
                    result.extra["dropped_in_process"] = naive_drops(naive_prefix) - drops_before
                settled = settle(server)
                errors = server.log.read_text(errors="replace").count("Exception in ASGI application") - errors_before
                if errors:
                    result.extra["server_exceptions"] = errors
                print(
                    f": p50 {result.from_commit.p50:.0f} ms, p99 {result.from_commit.p99:.0f} ms, lost {result.lost}, "
                    f"dup {result.duplicated} ({result.window:.0f} s; idle after {settled:.1f} s)",
                    flush=True,
                )
                (repeats if round_ > 1 else results).append(result)
        runs_in_order = [by_design(results, "floor"), by_design(results, "regent"), *repeats]  # floor, regent, …
        pairs = list(zip(runs_in_order[::2], runs_in_order[1::2], strict=True))
        report(results, pairs)
        breakdown(template, agent_id)
    finally:
        for server in servers.values():
            stop_process(server.process)
        if sequencer is not None:
            stop_process(sequencer)
        cleanup_redis(naive_prefix)
        drop_database()
        print(
            f"\nTotal {time.monotonic() - began:.0f} s; load average at end {os.getloadavg()[0]:.2f}; logs in {workdir}"
        )


def schedule(clients: int) -> list[tuple[str, int]]:
    """(design, round) in the order they run at one level; the naive design last, as it leaves a backlog.

    At the diagnostic level the floor and Regent alternate GOAL_PAIRS times, and regent-fanout runs after
    every real Regent run: its synthetic events carry ids past the chain's head, which the hubs then hold
    as delivered, so real decisions would be ignored until the chain caught up.
    """
    if clients != DIAGNOSTIC_LEVEL:
        return [(design, 1) for design in DESIGNS]
    pairs = [(design, round_) for round_ in range(1, GOAL_PAIRS + 1) for design in ("floor", "regent")]
    if GOAL_ONLY:
        return pairs
    return [*pairs, (FLOOR_WITH_DECISIONS, 1), (FANOUT_DESIGN, 1), ("naive", 1)]


def by_design(results: list[Result], design: str) -> Result:
    return next(r for r in results if r.design == design and r.clients == DIAGNOSTIC_LEVEL)


def cleanup_redis(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(BASELINE_REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="role")
    clients = sub.add_parser("clients")
    clients.add_argument("--url", required=True)
    clients.add_argument("--count", type=int, required=True)
    produce = sub.add_parser("produce")
    produce.add_argument("--design", choices=(*DESIGNS, FANOUT_DESIGN), required=True)
    produce.add_argument("--agent", type=int)
    produce.add_argument("--channel")
    produce.add_argument("--prefix")
    produce.add_argument("--rate", type=float, required=True)
    produce.add_argument("--seconds", type=float, required=True)
    produce.add_argument("--warmup", type=float, required=True)
    produce.add_argument("--template", required=True)
    produce.add_argument("--out", required=True)
    arguments = parser.parse_args()
    if arguments.role == "clients":
        asyncio.run(run_clients(arguments.url, arguments.count))
    elif arguments.role == "produce":
        warmup, count = round(arguments.warmup * arguments.rate), round(arguments.seconds * arguments.rate)
        template = json.loads(Path(arguments.template).read_text())
        if arguments.design == FANOUT_DESIGN:
            produced = produce_regent_fanout(template, warmup, count, arguments.rate)
        elif arguments.design == "regent":
            produced = produce_regent(arguments.agent, warmup, count, arguments.rate)
        elif arguments.design == "floor":
            produced = produce_floor(arguments.channel, template, warmup, count, arguments.rate)
        else:
            produced = produce_naive(arguments.prefix, template, warmup, count, arguments.rate)
        Path(arguments.out).write_text(json.dumps(produced))
    else:
        main()


if __name__ == "__main__":
    cli()
