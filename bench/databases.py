"""A throwaway PostgreSQL database per benchmark: dropped, created and migrated fresh, dropped at the end."""

import os
import subprocess
import sys
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
SERVER_URL = "postgres://postgres@127.0.0.1:5432"


def url_of(name: str) -> str:
    return f"{SERVER_URL}/{name}"


def _admin(statement: str) -> None:
    with psycopg.connect(url_of("postgres"), autocommit=True) as connection:
        connection.execute(statement)


def recreate(name: str) -> str:
    """A fresh, migrated database; returns its URL."""
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{name}"')
    return migrate(name)


def migrate(name: str) -> str:
    """Bring a database (fresh, or kept from an earlier checkout) to this checkout's migrations; returns its URL."""
    environment = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "SECRET_KEY", "DEBUG")}
    environment["DATABASE_URL"] = url_of(name)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=environment, check=True
    )
    return url_of(name)


def drop(name: str) -> None:
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def clone(source: str, name: str) -> str:
    """A copy of `source` (which must have no open sessions) as database `name`; returns its URL."""
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
    return url_of(name)
