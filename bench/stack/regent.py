"""Regent's processes on the private stores, started as the Procfile runs them (each line a process of its own,
in a session of its own so that it and its children can be signalled and cleaned up together)."""

import contextlib
import json
import os
import re
import secrets
import shlex
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench.stack.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 60
STOP_SECONDS = 5  # then SIGKILL: nothing of a load stack is worth a slow goodbye
_VARIABLE = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")


def procfile() -> dict[str, str]:
    """The Procfile's process kinds and their command lines."""
    lines = (line.strip() for line in (ROOT / "Procfile").read_text().splitlines())
    return dict(line.split(":", 1) for line in lines if line and not line.startswith("#"))


def expand(command: str, env: dict[str, str]) -> list[str]:
    """`${NAME:-default}` as the shell honcho uses would expand it."""
    return shlex.split(_VARIABLE.sub(lambda m: env.get(m.group(1)) or m.group(2) or "", command))


def cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


class RegentStack:
    """The Procfile's processes (web with WEB_CONCURRENCY workers, stream, worker, beat, sequencer)."""

    def __init__(self, root: Path, database_url: str, redis_url: str, web_processes: int = 2, **settings: str):
        self.root = root
        self.port, self.stream_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.stream_url = f"http://127.0.0.1:{self.stream_port}"  # the Procfile's stream process: /ws/
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in ("DEBUG", "DB_CONN_MAX_AGE", "DJANGO_SETTINGS_MODULE")},
            "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "SECRET_KEY": secrets.token_urlsafe(50),
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "SECURE_HSTS_SECONDS": "0",
            "AUDIT_SEQUENCING": "queued",
            "WEB_PORT": str(self.port),
            "STREAM_PORT": str(self.stream_port),
            "WEB_CONCURRENCY": str(web_processes),
            "BEAT_SCHEDULE_FILE": str(root / "beat-schedule"),
            "LOG_LEVEL": "WARNING",
            **settings,
        }
        self.processes: dict[str, subprocess.Popen] = {}

    def manage(self, *args: str) -> None:
        self.python("manage.py", *args)

    def python(self, *args: str) -> None:
        done = subprocess.run([sys.executable, *args], cwd=ROOT, env=self.env, capture_output=True, text=True)  # noqa: S603
        if done.returncode:
            raise RuntimeError(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")

    def prepare(self, agents: int, sockets: int) -> dict:
        """Migrate the empty database and seed it; return the agents' keys, the sessions and the workflow."""
        out = self.root / "seed.json"
        self.python("-m", "bench.stack.seed", str(agents), str(sockets), str(out))
        return json.loads(out.read_text())

    def check(self, given: dict) -> dict:
        """bench.stack.checks on the stack's database."""
        (self.root / "check-in.json").write_text(json.dumps(given))
        self.python("-m", "bench.stack.checks", str(self.root / "check-in.json"), str(self.root / "check-out.json"))
        return json.loads((self.root / "check-out.json").read_text())

    def start(self) -> None:
        for kind in procfile():
            self.start_one(kind)
        deadline = time.monotonic() + START_SECONDS
        while not self.ready():
            dead = [kind for kind, p in self.processes.items() if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                raise RuntimeError(f"the stack did not become ready ({dead or 'timeout'}); logs in {self.root}")
            time.sleep(0.3)

    def start_one(self, kind: str) -> None:
        log = (self.root / f"{kind}.log").open("a")
        self.processes[kind] = subprocess.Popen(  # noqa: S603
            expand(procfile()[kind], self.env),
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/readyz", timeout=2) as answer:  # noqa: S310 (loopback)
                return answer.status == 200
        except OSError:
            return False

    def web_workers(self) -> list[int]:
        """The web worker processes serving requests (children of the web supervisor but a resource tracker)."""
        return [pid for pid in children(self.processes["web"].pid) if b"resource_tracker" not in cmdline(pid)]

    def worker_pool(self) -> list[int]:
        """The Celery worker's pool processes, which run tasks (children of the worker's main process)."""
        return children(self.processes["worker"].pid)

    def exited(self) -> list[str]:
        """The process kinds no longer running (a Procfile manager such as honcho stops everything then)."""
        return [kind for kind, process in self.processes.items() if process.poll() is not None]

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(max(0.1, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # whatever of its group is left (orphaned children)
            process.wait()
        self.processes.clear()
