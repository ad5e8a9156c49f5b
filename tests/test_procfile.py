"""`make up`'s stack: the Procfile run by honcho brings up several web processes, a worker and beat that
serve together, on PostgreSQL and Redis, with DEBUG off."""

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

from config.celery import app as celery_app

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


@pytest.fixture
def stack(transactional_db, tmp_path):
    port, log = free_port(), tmp_path / "honcho.log"
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
        "WEB_CONCURRENCY": "2",
        "WORKER_CONCURRENCY": "1",
        "BEAT_SCHEDULE_FILE": str(tmp_path / "beat-schedule"),
    }
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
        yield port, log
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


def test_the_procfile_stack_serves_with_two_web_processes_a_worker_and_beat(stack):
    port, log = stack

    # When the stack has started, Regent answers ready (database, channel layer and broker reachable)
    wait_for(lambda: ready(port), "the web processes did not answer /readyz", log)

    # Then two web processes serve, a worker answers on the broker, and beat sends its scheduled tasks
    wait_for(lambda: log.read_text().count("Started server process") >= 2, "two web processes did not start", log)
    wait_for(lambda: bool(celery_app.control.ping(timeout=1.0)), "no worker answered a ping", log)
    wait_for(lambda: "Sending due task" in log.read_text(), "beat sent no task", log)
    wait_for(lambda: "elected: this process sequences" in log.read_text(), "no audit sequencer was elected", log)
