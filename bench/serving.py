"""Serving benchmark: the stack floor served each way worth considering, and Regent's evaluate, in one run.

Run from the repository root: `.venv/bin/python bench/serving.py` (SERVING_SECONDS per cell, SERVING_ROUNDS,
SERVING_CLIENTS, SERVING_ONLY). It creates the PostgreSQL database regent_bench_serving (Regent migrated, 50
agents with keys, 20 policies, and a table `bench_floor`) and runs the audit sequencer (AUDIT_SEQUENCING=queued, as
in production).
Each server gets the same budget of two processes and is up alone (PostgreSQL's 100 connections are shared), in
an order reversed every round: the machine's noise falls on all of them. Per server, per number of clients (1,
10, 50), each case runs a few seconds, each client a closed loop on one keep-alive connection that waits the
Retry-After of a 503 or 429. The raw baseline is a psycopg INSERT + COMMIT per client connection, no HTTP. The
table gives the median over rounds of each cell, and ratios to the raw baseline and to the best floor at the same
number of clients. Nothing asserts a wall-clock limit.
"""

import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "regent_bench_serving"
SECONDS = float(os.environ.get("SERVING_SECONDS", "5"))
ROUNDS = int(os.environ.get("SERVING_ROUNDS", "2"))
CLIENT_LEVELS = tuple(int(n) for n in os.environ.get("SERVING_CLIENTS", "1,10,50").split(","))
# Only the cases whose name contains one of these comma-separated words (and the raw baseline), e.g. "granian".
ONLY = [word for word in os.environ.get("SERVING_ONLY", "").split(",") if word]
WORKERS = 2  # the machine has two cores; every server gets two processes
THREADS = 8  # threaded WSGI servers: threads per process (Regent admits at most 8 requests per process)
AGENTS = 50
POLICIES = 20

sys.path.insert(0, str(ROOT))
os.environ.pop("REDIS_URL", None)
os.environ.update(DJANGO_SETTINGS_MODULE="config.settings")

from bench import databases  # noqa: E402

DATABASE_URL = databases.recreate(DATABASE)
os.environ["DATABASE_URL"] = DATABASE_URL

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
import uvloop  # noqa: E402

from governance.models import Effect, Policy  # noqa: E402
from governance.policies import record_policy_version  # noqa: E402
from orchestration.keys import issue_key  # noqa: E402
from orchestration.models import Agent, Capability, Department, ModelProvider  # noqa: E402
from tests.support.servers import answers, free_port  # noqa: E402

FLOOR_ASGI, FLOOR_WSGI = "bench.stack_floor:asgi_application", "bench.stack_floor:wsgi_application"
FLOOR_THREADED = "bench.stack_floor:threaded_application"
REGENT_ASGI, REGENT_WSGI = "config.asgi:application", "config.wsgi:application"
IN_PROCESS = "regent in process"  # not a server: bench/evaluate_in_process.py in WORKERS processes
IN_PROCESS_NAME = "Regent's own work, no HTTP (floor under evaluate)"
CORES = os.cpu_count() or 1
PY = [sys.executable, "-m"]
UVICORN = [*PY, "uvicorn", "--workers", str(WORKERS), "--no-access-log", "--log-level", "warning", "--host"]
GUNICORN = [*PY, "gunicorn", "--workers", str(WORKERS), "--log-level", "warning", "--backlog", "2048"]
GTHREAD = [*GUNICORN, "--worker-class", "gthread", "--threads", str(THREADS)]
GRANIAN = [*PY, "granian", "--workers", str(WORKERS), "--log-level", "warning", "--no-ws", "--host", "127.0.0.1"]

# name -> command (without the port); each server is started once and serves every case that names it.
SERVERS = {
    "floor uvicorn": lambda port: [*UVICORN, "127.0.0.1", f"--port={port}", FLOOR_ASGI],
    "floor uvicorn threaded": lambda port: [*UVICORN, "127.0.0.1", f"--port={port}", FLOOR_THREADED],
    "floor gunicorn sync": lambda port: [*GUNICORN, "--bind", f"127.0.0.1:{port}", FLOOR_WSGI],
    "floor gunicorn gthread": lambda port: [*GTHREAD, "--bind", f"127.0.0.1:{port}", FLOOR_WSGI],
    "floor granian asgi": lambda port: [*GRANIAN, "--interface", "asgi", "--port", str(port), FLOOR_ASGI],
    "floor granian wsgi": lambda port: [
        *GRANIAN,
        "--interface",
        "wsgi",
        "--blocking-threads",
        str(THREADS),
        "--port",
        str(port),
        FLOOR_WSGI,
    ],
    "regent uvicorn": lambda port: [*UVICORN, "127.0.0.1", f"--port={port}", REGENT_ASGI],
    # As the Procfile's `web`: more threads than the admission bound (8), so that overflow is turned away at once.
    "regent granian wsgi": lambda port: [
        *GRANIAN,
        "--interface",
        "wsgi",
        "--blocking-threads",
        "16",
        "--port",
        str(port),
        REGENT_WSGI,
    ],
}


@dataclass
class Case:
    name: str
    server: str | None  # None: the raw psycopg baseline
    path: str = "/insert"
    floor: bool = True


CASES = [
    Case("raw psycopg INSERT + COMMIT (baseline)", None),
    Case("floor: uvicorn, ASGI, sync DRF view", "floor uvicorn"),
    Case("floor: uvicorn, async view, async pool", "floor uvicorn", "/insert-async"),
    Case(f"floor: uvicorn, WSGI in {THREADS} threads", "floor uvicorn threaded"),
    Case("floor: gunicorn sync, WSGI", "floor gunicorn sync"),
    Case(f"floor: gunicorn gthread ({THREADS} threads), WSGI", "floor gunicorn gthread"),
    Case("floor: granian, ASGI, sync DRF view", "floor granian asgi"),
    Case("floor: granian, async view, async pool", "floor granian asgi", "/insert-async"),
    Case(f"floor: granian ({THREADS} threads), WSGI", "floor granian wsgi"),
    Case("Regent evaluate: uvicorn, ASGI (before)", "regent uvicorn", "/api/v1/decisions/evaluate", False),
    Case(IN_PROCESS_NAME, IN_PROCESS, "", False),
    Case(
        "Regent evaluate: granian, WSGI (the Procfile's web)",
        "regent granian wsgi",
        "/api/v1/decisions/evaluate",
        False,
    ),
]
CASES = [case for n, case in enumerate(CASES) if n == 0 or not ONLY or any(word in case.name for word in ONLY)]


@dataclass
class Cell:
    answers: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    python_cpu: float = 0.0  # seconds; measured for Regent's own work only
    postgres_cpu: float = 0.0

    @property
    def rate(self) -> float:
        return self.answers / self.seconds if self.seconds else 0.0


def seed() -> list[str]:
    """Agents allowed the bench action, with budgets no request exhausts, and policies that are candidates for it."""
    department = Department.objects.create(name="Finance", slug="finance", monthly_budget=Decimal("900000000000"))
    provider = ModelProvider.objects.create(name="Bench LLM", kind=ModelProvider.Kind.SIMULATED)
    capability = Capability.objects.create(code="invoice.approve")
    keys = []
    for n in range(AGENTS):
        agent = Agent.objects.create(
            name=f"Bench Bot {n}",
            slug=f"bench-bot-{n}",
            department=department,
            provider=provider,
            model_name="sim",
            monthly_budget=Decimal("9000000000"),
        )
        agent.capabilities.set([capability])
        keys.append(issue_key(agent))
    for n in range(POLICIES):
        policy = Policy.objects.create(
            name=f"Large invoices {n}",
            rationale="Bench.",
            actions="invoice.*",
            condition=f"amount > {100_000 + n} && context.region == 'eu'",
            effect=Effect.DENY if n % 2 else Effect.ALLOW,
        )
        policy.departments.set([department])
        record_policy_version(policy)
    with psycopg.connect(DATABASE_URL, autocommit=True) as connection:
        connection.execute("CREATE TABLE bench_floor (id bigserial PRIMARY KEY, payload jsonb NOT NULL)")
    return keys


def server_environment() -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "DB_CONN_MAX_AGE", "REDIS_URL")}
    environment.update(
        DATABASE_URL=DATABASE_URL,
        FLOOR_DATABASE_URL=DATABASE_URL,
        SECRET_KEY=secrets.token_urlsafe(50),
        SECURE_SSL_REDIRECT="false",
        ALLOWED_HOSTS="127.0.0.1",
        API_THROTTLE_RATE="100000000/min",
        LOG_LEVEL="WARNING",
        AUDIT_SEQUENCING="queued",
        # PostgreSQL is shared (max_connections 100): idle servers hold one connection per process, and a busy
        # process needs no more than the requests it admits (8).
        DB_POOL_MIN="1",
        DB_POOL_MAX="8",
    )
    return environment


def start(command: list[str], log) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=ROOT, env=server_environment(), stdout=log, stderr=subprocess.STDOUT)  # noqa: S603


def request_bytes(path: str, body: dict, key: str | None = None) -> bytes:
    data = json.dumps(body).encode()
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    if key:
        head += f"Authorization: Bearer {key}\r\n"
    return head.encode() + f"Content-Length: {len(data)}\r\n\r\n".encode() + data


BODIES = [
    {"action": "invoice.approve", "amount": f"{120 + n}.50", "currency": "USD", "context": {"region": "eu", "n": n}}
    for n in range(10)
]


async def read_answer(reader: asyncio.StreamReader) -> tuple[int, bool, int]:
    """One HTTP/1.1 answer: its status, whether the server keeps the connection open, and its Retry-After."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if b":" in line:
            name, value = line.split(b":", 1)
            headers[name.strip().lower()] = value.strip().lower()
    if b"content-length" in headers:
        await reader.readexactly(int(headers[b"content-length"]))
    elif headers.get(b"transfer-encoding") == b"chunked":
        while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
            await reader.readexactly(size + 2)
        await reader.readuntil(b"\r\n")
    return status, headers.get(b"connection") != b"close", int(headers.get(b"retry-after", b"0"))


async def http_client(port: int, requests: list[bytes], deadline: float, cell: Cell) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = 0
    while (started := time.perf_counter()) < deadline:
        writer.write(requests[i % len(requests)])
        try:
            status, keep, retry_after = await read_answer(reader)
        except (OSError, asyncio.IncompleteReadError):
            status, keep, retry_after = -1, False, 0
        cell.latencies.append(time.perf_counter() - started)
        cell.statuses[status] += 1
        if not keep:
            writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        if retry_after:  # a 503 or 429: wait as regent_client does, within the cell
            await asyncio.sleep(min(retry_after, max(0.0, deadline - time.perf_counter())))
        i += 1
    writer.close()


async def connect_raw(deadline: float) -> psycopg.AsyncConnection:
    """PostgreSQL's connections are shared with other work here: wait for one rather than lose the cell."""
    while True:
        try:
            return await psycopg.AsyncConnection.connect(DATABASE_URL)
        except psycopg.OperationalError:
            if time.perf_counter() > deadline:
                raise
            await asyncio.sleep(0.2)


async def raw_client(deadline: float, cell: Cell) -> None:
    async with await connect_raw(deadline) as connection:
        i = 0
        while (started := time.perf_counter()) < deadline:
            payload = json.dumps(BODIES[i % len(BODIES)])
            await connection.execute("INSERT INTO bench_floor (payload) VALUES (%s) RETURNING id", [payload])
            await connection.commit()
            cell.latencies.append(time.perf_counter() - started)
            cell.statuses[200] += 1
            i += 1


async def in_process(keys: list[str], clients: int) -> Cell:
    """Regent's own work with no HTTP: `clients` threads shared by WORKERS processes, at most THREADS each."""
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            str(ROOT / "bench" / "evaluate_in_process.py"),
            str(SECONDS),
            str(min(THREADS, len(range(n, clients, WORKERS)))),  # a server admits THREADS requests at a time
            *keys[n::WORKERS],
            cwd=ROOT,
            env=server_environment(),
            stdout=asyncio.subprocess.PIPE,
        )
        for n in range(min(WORKERS, clients))
    ]
    cell = Cell(seconds=SECONDS)
    for process in processes:
        output, _ = await process.communicate()
        result = json.loads(output.splitlines()[-1])
        cell.answers += result["answers"]
        cell.latencies.extend(result["latencies"])
        cell.python_cpu += result["python_cpu_s"]
        cell.postgres_cpu += result["postgres_cpu_s"]
    cell.statuses[200] = cell.answers
    return cell


async def measure(case: Case, port: int | None, keys: list[str], clients: int) -> Cell:
    if case.server == IN_PROCESS:
        return await in_process(keys, clients)
    cell = Cell()
    deadline = time.perf_counter() + SECONDS
    if case.server is None:
        workers = [raw_client(deadline, cell) for _ in range(clients)]
    else:
        workers = []
        for n in range(clients):
            own = keys[n::clients] if case.floor is False else [None]
            requests = [request_bytes(case.path, BODIES[i % len(BODIES)], own[i % len(own)]) for i in range(20)]
            workers.append(http_client(port, requests, deadline, cell))
    started = time.perf_counter()
    await asyncio.gather(*workers)
    cell.seconds = time.perf_counter() - started
    cell.answers = cell.statuses[200]
    return cell


def percentile_ms(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000 if ordered else float("nan")


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()  # noqa: S607


def report(results: dict[tuple[str, int], list[Cell]]) -> None:
    baseline = CASES[0].name
    print(f"\nMedian over {ROUNDS} rounds of {SECONDS:.0f} s per cell; answers 200 per second, p50 and p99 in ms")
    print(f"{'case':<48}{'clients':>8}{'req/s':>8}{'p50':>8}{'p99':>8}{'÷ raw':>7}{'÷ best floor':>13}  errors")
    for clients in CLIENT_LEVELS:
        rate = {case.name: statistics.median(c.rate for c in results[case.name, clients]) for case in CASES}
        floors = [case for case in CASES if case.floor and case.server] or CASES[:1]
        best = max(floors, key=lambda case: rate[case.name])
        for case in CASES:
            cells = results[case.name, clients]
            latencies = [s for c in cells for s in c.latencies]
            errors = sum((c.statuses for c in cells), Counter())
            errors.pop(200, None)
            shown = ", ".join(f"{status}: {count}" for status, count in sorted(errors.items())) or "0"
            print(
                f"{case.name:<48}{clients:>8}{rate[case.name]:>8.0f}{percentile_ms(latencies, 0.5):>8.1f}"
                f"{percentile_ms(latencies, 0.99):>8.1f}{rate[case.name] / rate[baseline]:>7.2f}"
                f"{rate[case.name] / rate[best.name]:>13.2f}  {shown}"
            )
        print(f"{'  best floor at ' + str(clients) + ': ' + best.name:<48}")
        own = [c for c in results.get((IN_PROCESS_NAME, clients), []) if c.answers]
        if own:
            python_ms = statistics.median(c.python_cpu / c.answers for c in own) * 1000
            postgres_ms = statistics.median(c.postgres_cpu / c.answers for c in own) * 1000
            ceiling = CORES * 1000 / (python_ms + postgres_ms)
            print(
                f"  CPU per decision, Regent's own work: {python_ms:.2f} ms Python + {postgres_ms:.2f} ms PostgreSQL; "
                f"all {CORES} cores doing nothing else: at most {ceiling:.0f}/s = {ceiling / rate[best.name]:.2f}× the "
                "best floor"
            )


def main() -> None:
    keys = seed()
    print(f"Serving benchmark, {WORKERS} processes per server, {len(CASES)} cases; {uptime()}", flush=True)
    log = tempfile.NamedTemporaryFile(prefix="regent-bench-serving-", suffix=".log", delete=False)  # noqa: SIM115
    sequencer = start([sys.executable, "manage.py", "sequence_audit"], log)
    loop = uvloop.new_event_loop()
    servers = list(dict.fromkeys(case.server for case in CASES))
    results: dict[tuple[str, int], list[Cell]] = {}
    try:
        for round_number in range(ROUNDS):
            # One server up at a time: PostgreSQL's connections are shared (max_connections 100 here), and a pool
            # that grew for 50 clients keeps its connections for minutes.
            for server in servers if round_number % 2 == 0 else servers[::-1]:
                cases = [case for case in CASES if case.server == server]
                with serving(server, log) as port:
                    for case in cases:  # warm-up: each process opens its pool and imports what it needs
                        loop.run_until_complete(measure(case, port, keys, 4))
                    for clients in CLIENT_LEVELS:
                        for case in cases:
                            cell = loop.run_until_complete(measure(case, port, keys, clients))
                            results.setdefault((case.name, clients), []).append(cell)
                            print(f"  {case.name}, {clients} clients: {cell.rate:.0f}/s", flush=True)
            print(f"round {round_number + 1} done; {uptime()}", flush=True)
        report(results)
        print(f"\n{uptime()}; server log: {log.name}")
    finally:
        stop(sequencer)
        databases.drop(DATABASE)


@contextmanager
def serving(server: str | None, log) -> Iterator[int | None]:
    if server in (None, IN_PROCESS):
        yield None
        return
    port = free_port()
    process = start(SERVERS[server](port), log)
    try:
        wait_until_serving(port, server, process, log)
        yield port
    finally:
        stop(process)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_until_serving(port: int, name: str, process: subprocess.Popen, log) -> None:
    """Regent answers /healthz; the floor has no probe, so a first insert answering 200 says it is up."""
    deadline = time.monotonic() + 60
    while True:
        if name.startswith("regent"):
            if answers(f"http://127.0.0.1:{port}/healthz"):
                return
        else:
            probe = Cell()
            with suppress(OSError):
                asyncio.run(http_client(port, [request_bytes("/insert", BODIES[0])], time.perf_counter() + 0.05, probe))
            if probe.statuses[200]:
                return
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{name} did not start (exit code {process.poll()}); see {log.name}")
        time.sleep(0.3)


if __name__ == "__main__":
    main()
