"""The stack's own stores: a PostgreSQL cluster made with initdb in a temporary directory, and a redis-server,
both on loopback. They are private so that a script may stop, kill and restart them while others share the
machine's PostgreSQL and Redis."""

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import psycopg

from bench.stack.ports import free_port, listening

START_SECONDS = 30


def postgres_bin(name: str) -> str:
    """The newest installed PostgreSQL's program `name` (initdb and pg_ctl are not on PATH on Debian)."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    if found:
        return found[-1]
    if path := shutil.which(name):
        return path
    raise RuntimeError(f"PostgreSQL's {name} is not installed (looked in /usr/lib/postgresql/*/bin and PATH)")


class PrivatePostgres:
    """A PostgreSQL cluster of our own: trust auth, loopback only. initdb refuses to run as root, so as root the
    cluster belongs to the `postgres` system user. `durable=False` turns fsync off: faster, and still safe
    across the clean restarts the fault script makes, but not across a crash of the machine."""

    def __init__(self, root: Path, durable: bool = True) -> None:
        self.durable = durable
        self.root = root / "postgres"
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()
        self.user = "postgres" if os.geteuid() == 0 else None

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str) -> None:
        subprocess.run(command, check=True, user=self.user, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # noqa: S603

    def create(self, database: str) -> str:
        self.root.mkdir(parents=True)
        if self.user:
            shutil.chown(self.root, self.user)
        self._run(
            postgres_bin("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"
        )
        self.start()
        with psycopg.connect(self.url("postgres"), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{database}"')
        return self.url(database)

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c max_connections=300"
        if not self.durable:  # a test's throwaway cluster: commits and migrations without waiting for the disk
            options += " -c fsync=off -c full_page_writes=off"
        self._run(
            postgres_bin("pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-w",
            "-t",
            str(START_SECONDS),
            "-o",
            options,
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        """`fast` disconnects every client and shuts down cleanly; `immediate` is a crash (recovery at start)."""
        self._run(postgres_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", str(START_SECONDS), "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def destroy(self) -> None:
        if self.running():
            with contextlib.suppress(subprocess.CalledProcessError):
                self.stop("immediate")


class PrivateRedis:
    """A redis-server of our own on loopback, appending to a log file as a broker in production would, so a
    restart keeps queued tasks."""

    def __init__(self, root: Path) -> None:
        self.root = root / "redis"
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        command = [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.root),
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
            "--maxclients",
            "10000",
            "--logfile",
            str(self.root / "server.log"),
        ]
        self.process = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL)  # noqa: S603
        deadline = time.monotonic() + START_SECONDS
        while not listening(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start; see {self.root / 'server.log'}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(START_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    destroy = stop
