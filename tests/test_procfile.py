"""`make up`'s stack: the Procfile run by honcho brings up several web processes (granian, WSGI), a stream process
(uvicorn, WebSockets), a worker and beat that serve together, on PostgreSQL and Redis, with DEBUG off."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from prometheus_client.parser import text_string_to_metric_families

from config.celery import app as celery_app
from orchestration.keys import issue_key
from tests.support.stream import STREAM_PATH, StreamClient, ws_connect

pytestmark = [
    pytest.mark.processes,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.skipif(
        connection.vendor != "postgresql" or not settings.REDIS_URL, reason="the stack runs on PostgreSQL and Redis"
    ),
]

ROOT = Path(__file__).resolve().parents[1]
START_SECONDS = 60
METRICS_TOKEN = "t" * 40


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def wait_for(condition, what: str, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    pytest.fail(f"{what} within {START_SECONDS} s; honcho printed:\n{log.read_text()[-4000:]}")


def ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def server_of(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
        return response.headers.get("Server", "")


def evaluate(port: int, key: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/decisions/evaluate",
        data=json.dumps({"action": "invoice.approve"}).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


@pytest.fixture
def stack(transactional_db, tmp_path):
    port, stream_port, log = free_port(), free_port(), tmp_path / "honcho.log"
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "SECRET_KEY": "a-test-secret-key-that-is-long-enough-for-the-deploy-checks-0123456789",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "WEB_PORT": str(port),
        "STREAM_PORT": str(stream_port),
        "WEB_CONCURRENCY": "2",
        "WORKER_CONCURRENCY": "1",
        "BEAT_SCHEDULE_FILE": str(tmp_path / "beat-schedule"),
        "METRICS_TOKEN": METRICS_TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
    }
    (tmp_path / "prometheus").mkdir()
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "honcho", "-f", "Procfile", "start"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield port, stream_port, log
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


def test_the_procfile_stack_serves_with_two_web_processes_a_stream_a_worker_and_beat(queued, stack):
    # `queued` without a sequencer thread of the test's own: the Procfile's sequencer must win the election
    port, stream_port, log = stack

    # When the stack has started, Regent answers ready (database, channel layer and broker reachable)
    wait_for(lambda: ready(port), "the web processes did not answer /readyz", log)
    wait_for(lambda: ready(stream_port), "the stream process did not answer /readyz", log)

    # Then two WSGI web processes serve HTTP, a stream process serves sockets, a worker answers on the broker,
    # and beat sends its scheduled tasks
    assert server_of(port) == "granian"
    wait_for(lambda: log.read_text().count("Spawning worker") >= 2, "two web processes did not start", log)
    wait_for(lambda: "Started server process" in log.read_text(), "the stream process did not start", log)
    wait_for(lambda: bool(celery_app.control.ping(timeout=1.0)), "no worker answered a ping", log)
    wait_for(lambda: "Sending due task" in log.read_text(), "beat sent no task", log)
    wait_for(lambda: "elected: this process sequences" in log.read_text(), "no audit sequencer was elected", log)


def test_a_decision_made_on_the_web_port_reaches_a_socket_on_the_stream_port(stack, finance_agent):
    # Given the stack, and an agent following the live stream on the stream process's port
    port, stream_port, log = stack
    wait_for(lambda: ready(port) and ready(stream_port), "the stack did not answer /readyz", log)
    key = issue_key(finance_agent)
    socket = ws_connect(
        f"ws://127.0.0.1:{stream_port}{STREAM_PATH}", additional_headers={"Authorization": f"Bearer {key}"}
    )
    with socket:
        stream = StreamClient(socket)
        stream.hello()

        # When the agent asks for a decision over HTTP on the web port
        decision = evaluate(port, key)

        # Then its event arrives on the socket once the sequencer has chained it
        received = stream.events_until(lambda events: any(is_decision(e, decision) for e in events), timeout=30)
    assert [e["type"] for e in received if is_decision(e, decision)] == ["decision.created"]


def is_decision(event: dict, decision: dict) -> bool:
    return event["subject"] == {"type": "decision", "id": str(decision["decision_id"])}


def scrape(port: int) -> dict[str, float]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        text = response.read().decode()
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if not sample.labels or sample.labels.get("le") == "+Inf"
    }


def test_metrics_add_up_every_process_on_the_machine(queued, stack, finance_agent):
    # Given the stack (two web processes, a stream process), and a socket following the stream
    port, stream_port, log = stack
    wait_for(lambda: ready(port) and ready(stream_port), "the stack did not answer /readyz", log)
    key = issue_key(finance_agent)
    socket = ws_connect(
        f"ws://127.0.0.1:{stream_port}{STREAM_PATH}", additional_headers={"Authorization": f"Bearer {key}"}
    )
    with socket:
        StreamClient(socket).hello()

        # When agents ask for six decisions, each answered by whichever web process takes it
        for _ in range(6):
            evaluate(port, key)

        # Then every scrape, whichever process answers it, counts all six and the stream process's socket
        scrapes = [scrape(port) for _ in range(6)]
    assert [s["regent_evaluate_seconds_count"] for s in scrapes] == [6] * 6
    assert [s["regent_stream_clients"] for s in scrapes] == [1] * 6
