"""A private stack brought up, loaded, hurt in turn by each fault, drained and checked; cleaned up always."""

import argparse
import asyncio
import os
import random
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from bench.stack.regent import RegentStack
from bench.stack.stores import PrivatePostgres, PrivateRedis
from bench.stack.traffic import Answer, Load, Watcher

DATABASE = "regent"
DRAIN_SECONDS = 60


@dataclass
class Stack:
    postgres: PrivatePostgres
    redis: PrivateRedis
    regent: RegentStack
    root: Path


def add_load_arguments(parser: argparse.ArgumentParser) -> None:
    """The options load.py and faults.py share: how many agents and sockets, their pace, the web workers."""
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--sockets", type=int, default=200)
    parser.add_argument("--think", type=float, default=2.0, help="an agent's mean pause between actions, seconds")
    parser.add_argument("--web", type=int, default=2, help="web worker processes")
    parser.add_argument("--keep", action="store_true", help="keep the stack's logs")


@contextmanager
def private_stack(web_processes: int = 2, keep: bool = False, durable: bool = True, **settings: str) -> Iterator[Stack]:
    """Own PostgreSQL cluster and Redis in a temporary directory, Regent's Procfile processes on them; on the way
    out (an exception, Ctrl-C or SIGTERM included) every process is stopped and the directory removed."""
    root = Path(tempfile.mkdtemp(prefix="regent-stack-"))
    os.chmod(root, 0o755)  # noqa: S103 (the cluster's owner (postgres, when run as root) must reach its directory)
    postgres, redis = PrivatePostgres(root, durable), PrivateRedis(root)
    regent: RegentStack | None = None
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        database_url = postgres.create(DATABASE)
        redis.start()
        regent = RegentStack(root, database_url, redis.url(0), web_processes, **settings)
        yield Stack(postgres, redis, regent, root)
    finally:
        if regent is not None:
            regent.stop()
        redis.destroy()
        postgres.destroy()
        signal.signal(signal.SIGTERM, previous)
        if keep:
            print(f"logs kept in {root}")
        else:
            _remove(root)


def _interrupt(*_) -> None:
    raise KeyboardInterrupt


def _remove(root: Path) -> None:
    import shutil

    shutil.rmtree(root, ignore_errors=True)


def restart_redis(stack: Stack, down: float) -> None:
    stack.redis.stop()
    time.sleep(down)
    stack.redis.start()


def kill_web_process(stack: Stack, down: float) -> None:
    """SIGKILL one web worker; its supervisor starts another, the other worker serves meanwhile."""
    os.kill(random.choice(stack.regent.web_workers()), signal.SIGKILL)


def kill_celery_worker(stack: Stack, down: float) -> None:
    """SIGKILL one Celery pool process; the worker replaces it and puts its task back (acks_late)."""
    pool = stack.regent.worker_pool()
    if not pool:
        raise RuntimeError(f"the Celery worker has exited; see {stack.root / 'worker.log'}")
    os.kill(random.choice(pool), signal.SIGKILL)


def restart_postgres(stack: Stack, down: float) -> None:
    stack.postgres.stop("fast")
    time.sleep(down)
    stack.postgres.start()


FAULTS: dict[str, Callable[[Stack, float], None]] = {
    "restart Redis": restart_redis,
    "SIGKILL a web process": kill_web_process,
    "SIGKILL a Celery worker": kill_celery_worker,
    "restart PostgreSQL": restart_postgres,
}


@dataclass
class Outcome:
    seconds: float  # agents' acting time
    answers: list[Answer]
    watchers: list[Watcher]
    windows: list[dict] = field(default_factory=list)
    checked: dict = field(default_factory=dict)
    until: int = 0
    samples: dict[str, str] = field(default_factory=dict)
    exited: list[str] = field(default_factory=list)  # the Procfile's processes that were no longer running


def chain_head_after_drain(database_url: str) -> int:
    """Wait for the sequencer to chain every queued event (bounded); the chain head's position then."""
    deadline = time.monotonic() + DRAIN_SECONDS
    while True:
        try:
            with psycopg.connect(database_url, connect_timeout=5) as db:
                left = db.execute("SELECT count(*) FROM audit_pendingevent").fetchone()[0]
                if not left or time.monotonic() > deadline:
                    return db.execute("SELECT coalesce(max(seq), 0) FROM governance_auditchainhead").fetchone()[0]
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.2)


async def run(
    stack: Stack, seeded: dict, *, agents: int, sockets: int, think: float, phase: float, faults: list[str], down: float
) -> Outcome:
    """Load for `phase` seconds, then each fault in turn with `phase` seconds of load once the store or process is
    back; then drain and check."""
    load = Load(stack.regent.url, seeded, agents, sockets, think, stream_url=stack.regent.stream_url)
    await load.connect_watchers()
    load.start_agents()
    started = time.monotonic()
    windows = []
    await asyncio.sleep(phase)
    for name in faults:
        window = {"name": name, "start": time.monotonic()}
        await asyncio.to_thread(FAULTS[name], stack, down)
        window["back"] = time.monotonic()
        await asyncio.sleep(phase)
        window["end"] = time.monotonic()
        windows.append(window)
    await load.stop_agents()
    seconds = time.monotonic() - started
    exited = stack.regent.exited()
    until = await asyncio.to_thread(chain_head_after_drain, stack.regent.env["DATABASE_URL"])
    await load.settle_watchers(until)
    given = {
        "acknowledged": load.record.acknowledged,
        "until": until,
        "sockets": [{"user": w.user, "starts_after": w.starts_after, "received": w.received} for w in load.watchers],
    }
    checked = await asyncio.to_thread(stack.regent.check, given)
    return Outcome(seconds, load.record.answers, load.watchers, windows, checked, until, load.record.samples, exited)
