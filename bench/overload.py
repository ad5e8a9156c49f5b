"""Overload benchmark: latency of admitted requests at 10x overload, on the Procfile's web server and the one before.

Run from the repository root: `.venv/bin/python bench/overload.py`. It creates the PostgreSQL database
regent_bench_overload with one agent, then for each case starts one server process (DEBUG off, the default pool of
20 connections) and runs closed-loop clients against `POST /api/v1/decisions/evaluate`, each on a connection of its
own: first one client (nominal), then CLIENTS at once (200: ten times the pool). A client that is answered 429 or
503 waits its Retry-After before asking again, as `regent_client` callers should. The cases: granian over
config.wsgi as the Procfile's `web` (16 threads, admission bound 8), uvicorn over config.asgi (bound 8, the web
server before), and granian with no bound. The table gives answers per second by status and their latency;
nothing asserts a wall-clock limit.
"""

import asyncio
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "regent_bench_overload"
CLIENTS = int(os.environ.get("OVERLOAD_CLIENTS", "200"))
SECONDS = float(os.environ.get("OVERLOAD_SECONDS", "15"))
UVICORN = ["uvicorn", "config.asgi:application", "--no-access-log", "--backlog", "4096"]
# As the Procfile's web: granian over config.wsgi, more threads than the bound so that overflow is turned away.
GRANIAN = ["granian", "--interface", "wsgi", "config.wsgi:application", "--workers", "1", "--no-ws"]
GRANIAN += ["--blocking-threads", "16", "--backlog", "4096"]
CASES = {
    "granian WSGI, bound 8 (the Procfile)": (GRANIAN, {}),
    "uvicorn ASGI, bound 8 (before)": (UVICORN, {}),
    "granian WSGI, no bound": (GRANIAN, {"MAX_REQUESTS_IN_FLIGHT": "100000"}),
}
if os.environ.get("OVERLOAD_CASES"):  # e.g. OVERLOAD_CASES=granian to run only the cases naming it
    CASES = {name: case for name, case in CASES.items() if os.environ["OVERLOAD_CASES"] in name}

sys.path.insert(0, str(ROOT))
os.environ.pop("REDIS_URL", None)
os.environ.update(DJANGO_SETTINGS_MODULE="config.settings")

from bench import databases  # noqa: E402

DATABASE_URL = databases.recreate(DATABASE)
os.environ["DATABASE_URL"] = DATABASE_URL

import django  # noqa: E402

django.setup()

from orchestration.keys import issue_key  # noqa: E402
from tests.factories import AgentFactory, DepartmentFactory  # noqa: E402
from tests.support.servers import answers, free_port  # noqa: E402

Results = dict[int, list[float]]  # seconds per answer, by status (-1: no answer)


def start_server(server: list[str], port: int, settings: dict[str, str], log) -> subprocess.Popen:
    environment = {name: value for name, value in os.environ.items() if name not in ("DEBUG", "DB_CONN_MAX_AGE")}
    environment.update(
        DATABASE_URL=DATABASE_URL,
        SECRET_KEY=secrets.token_urlsafe(50),
        SECURE_SSL_REDIRECT="false",
        ALLOWED_HOSTS="127.0.0.1",
        API_THROTTLE_RATE="1000000/min",
        LOG_LEVEL="CRITICAL",
        **settings,
    )
    command = [sys.executable, "-m", *server, "--host", "127.0.0.1", "--port", str(port), "--log-level", "critical"]
    process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    deadline = time.monotonic() + 30
    while not answers(f"http://127.0.0.1:{port}/healthz"):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{server[0]} did not start (exit code {process.poll()}); see {log.name}")
        time.sleep(0.2)
    return process


async def evaluate(port: int, key: str) -> tuple[int, float, int]:
    """One request on a new connection: its status, its seconds and its Retry-After (0 without one)."""
    body = json.dumps({"action": "invoice.approve"}).encode()
    head = (
        f"POST /api/v1/decisions/evaluate HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    started = time.perf_counter()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 30)
        writer.write(head.encode() + body)
        answer = await asyncio.wait_for(reader.read(), 60)
        writer.close()
    except (OSError, TimeoutError):
        return -1, time.perf_counter() - started, 0
    seconds = time.perf_counter() - started
    lines = answer.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    retry_after = next((int(line.split(b":")[1]) for line in lines if line.lower().startswith(b"retry-after:")), 0)
    return int(lines[0].split()[1]) if lines[0] else -1, seconds, retry_after


async def load(port: int, key: str, clients: int, seconds: float) -> Results:
    results: Results = defaultdict(list)
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        while time.perf_counter() < deadline:
            status, took, retry_after = await evaluate(port, key)
            results[status].append(took)
            await asyncio.sleep(retry_after)

    await asyncio.gather(*(client() for _ in range(clients)))
    return results


def percentile_ms(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000 if ordered else float("nan")


def row(case: str, clients: int, results: Results) -> str:
    admitted, refused = results.get(200, []), results.get(503, []) + results.get(429, [])
    others = sum(len(values) for status, values in results.items() if status not in (200, 429, 503))
    return (
        f"{case:<38}{clients:>8}{len(admitted) / SECONDS:>8.0f}{percentile_ms(admitted, 0.5):>9.0f}"
        f"{percentile_ms(admitted, 0.99):>9.0f}{len(refused) / SECONDS:>8.0f}{percentile_ms(refused, 0.5):>9.0f}"
        f"{percentile_ms(refused, 0.99):>9.0f}{others:>8}"
    )


def main() -> None:
    key = issue_key(AgentFactory(department=DepartmentFactory()))
    print(f"Overload: one server process, pool of 20, {SECONDS:.0f} s per row; load {os.getloadavg()[0]:.1f}")
    print(
        f"{'case':<38}{'clients':>8}{'200/s':>8}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'503/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'other':>8}"
    )
    log = tempfile.NamedTemporaryFile(prefix="regent-bench-overload-", suffix=".log", delete=False)  # noqa: SIM115
    try:
        for case, (command, settings) in CASES.items():
            port = free_port()
            server = start_server(command, port, settings, log)
            try:
                asyncio.run(load(port, key, 4, 3))  # warm-up
                for clients in (1, CLIENTS):
                    print(row(case, clients, asyncio.run(load(port, key, clients, SECONDS))), flush=True)
            finally:
                server.terminate()
                server.wait(timeout=15)
        print(f"load {os.getloadavg()[0]:.1f} at the end; server log: {log.name}")
    finally:
        databases.drop(DATABASE)


if __name__ == "__main__":
    main()
