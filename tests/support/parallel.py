"""Redis databases of their own for each pytest-xdist worker (`make test` runs the suite on several).

PostgreSQL needs nothing here: pytest-django gives each worker its own test database (test_regent_gw0, …).
Redis is one server, and the channel layer's groups, the cache and Celery's queues would be shared by workers
running at once: a dashboard socket in one worker would receive another's decisions, a Celery worker process
would run another's tasks. So each worker's REDIS_URL names a database of its own, set in the worker's process
before it starts pytest (tests/conftest.py, pytest_xdist_newgateway): pytest-django reads the settings before
any conftest of the worker's is imported.
"""

import os
from urllib.parse import urlsplit

SERIAL_BROKER_DB = 7  # a run without workers: the worker-process tests' broker, flushed before and after
FIRST_WORKER_DB, FIRST_WORKER_BROKER_DB = 1, 8  # gwN uses 1 + N for REDIS_URL and 8 + N for that broker
MAX_WORKERS = 6  # Redis has 16 databases (0-15); 0 and 7 stay the serial run's


def worker_number(worker: str | None = None) -> int | None:
    """N for pytest-xdist's worker gwN (this process's by default); None without workers."""
    name = worker if worker is not None else os.environ.get("PYTEST_XDIST_WORKER", "")
    if not name.startswith("gw"):
        return None
    number = int(name.removeprefix("gw"))
    if number >= MAX_WORKERS:
        raise RuntimeError(f"tests/support/parallel.py has Redis databases for {MAX_WORKERS} workers; use fewer")
    return number


def with_database(url: str, database: int) -> str:
    return urlsplit(url)._replace(path=f"/{database}").geturl()


def worker_redis_url(url: str, worker: str) -> str:
    """REDIS_URL as worker `worker` (gwN) uses it: the same server, a database of its own."""
    number = worker_number(worker)
    return url if number is None or not url else with_database(url, FIRST_WORKER_DB + number)


def broker_url(base: str = "") -> str:
    """The Redis database the worker-process tests flush and use as their broker: this xdist worker's own.

    On the server REDIS_URL names, so that two checkouts testing at once on their own Redis servers never meet.
    """
    base = base or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    number = worker_number()
    return with_database(base, SERIAL_BROKER_DB if number is None else FIRST_WORKER_BROKER_DB + number)
