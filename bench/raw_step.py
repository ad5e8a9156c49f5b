"""The orchestration benchmark's second baseline: the durable writes of a governed step, by hand.

A governed step has to do at least this much whatever code does it: lock the step, record a decision
and link two events onto a hash chain under its head lock, mark the step running, commit; then lock the
step again, record the outcome, mark it succeeded, link one more event, find the next step, commit, and
queue the next step after commit. Here that is plain SQL over one psycopg connection per worker process,
on tables of its own (no triggers; primary keys and the one index that finds a run's next step; no ORM,
no policies, no routing): a floor for the stack (Celery, Redis, PostgreSQL on this machine), not a design
anyone would ship.
"""

import hashlib
import json
import os

import psycopg

from config.celery import app

TABLES = """
DROP TABLE IF EXISTS raw_step, raw_decision, raw_outcome, raw_audit, raw_head;
CREATE TABLE raw_step (id bigserial PRIMARY KEY, run integer NOT NULL, position integer NOT NULL,
                       status text NOT NULL, decision_id bigint, updated_at timestamptz NOT NULL);
CREATE UNIQUE INDEX raw_step_run_position ON raw_step (run, position);
CREATE TABLE raw_decision (id bigserial PRIMARY KEY, step_id bigint NOT NULL, verdict text NOT NULL,
                           request jsonb NOT NULL, created_at timestamptz NOT NULL);
CREATE TABLE raw_outcome (decision_id bigint PRIMARY KEY, status text NOT NULL, created_at timestamptz NOT NULL);
CREATE TABLE raw_audit (seq bigint PRIMARY KEY, prev_hash text NOT NULL, hash text NOT NULL, kind text NOT NULL,
                        payload jsonb NOT NULL, occurred_at timestamptz NOT NULL);
CREATE TABLE raw_head (id integer PRIMARY KEY, seq bigint NOT NULL, hash text NOT NULL);
INSERT INTO raw_head VALUES (1, 0, repeat('0', 64));
"""
_connection: psycopg.Connection | None = None


def create_tables(connection: psycopg.Connection) -> None:
    connection.execute(TABLES)


def add_runs(connection: psycopg.Connection, runs: int, steps: int) -> list[int]:
    """Pending steps for `runs` runs; the ids of each run's first step."""
    rows = connection.execute(
        "INSERT INTO raw_step (run, position, status, updated_at) "
        "SELECT r, p, 'pending', now() FROM generate_series(1, %s) r, generate_series(1, %s) p RETURNING id, position",
        [runs, steps],
    ).fetchall()
    return [step_id for step_id, position in rows if position == 1]


def _db() -> psycopg.Connection:
    global _connection
    if _connection is None or _connection.closed:
        _connection = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
    return _connection


def _link(cursor: psycopg.Cursor, events: list[tuple[str, dict]]) -> None:
    seq, prev_hash = cursor.execute("SELECT seq, hash FROM raw_head WHERE id = 1 FOR UPDATE").fetchone()
    rows = []
    for kind, payload in events:
        seq += 1
        text = json.dumps({"seq": seq, "kind": kind, "prev_hash": prev_hash, **payload}, sort_keys=True)
        digest = hashlib.sha256(text.encode()).hexdigest()
        rows.extend([seq, prev_hash, digest, kind, json.dumps(payload)])
        prev_hash = digest
    values = ", ".join(["(%s, %s, %s, %s, %s, now())"] * len(events))
    cursor.execute(f"INSERT INTO raw_audit VALUES {values}", rows)
    cursor.execute("UPDATE raw_head SET seq = %s, hash = %s WHERE id = 1", [seq, prev_hash])


@app.task(name="bench.raw_step", acks_late=True, reject_on_worker_lost=True)
def raw_step(step_id: int) -> None:
    connection = _db()
    with connection.transaction(), connection.cursor() as cursor:
        row = cursor.execute(
            "SELECT run, position, status FROM raw_step WHERE id = %s FOR UPDATE", [step_id]
        ).fetchone()
        if row is None or row[2] != "pending":
            return
        run, position, _ = row
        request = {"action": f"bench.step{position}", "resource": f"run/{run}/{position}"}
        (decision_id,) = cursor.execute(
            "INSERT INTO raw_decision (step_id, verdict, request, created_at) VALUES (%s, 'allow', %s, now()) "
            "RETURNING id",
            [step_id, json.dumps(request)],
        ).fetchone()
        _link(
            cursor,
            [
                ("decision.created", {"decision": decision_id, **request}),
                ("workflow.step_changed", {"step": step_id, "status": "running"}),
            ],
        )
        cursor.execute(
            "UPDATE raw_step SET status = 'running', decision_id = %s, updated_at = now() WHERE id = %s",
            [decision_id, step_id],
        )
    # the provider call would be here, outside any transaction
    with connection.transaction(), connection.cursor() as cursor:
        cursor.execute("SELECT status FROM raw_step WHERE id = %s FOR UPDATE", [step_id])
        cursor.execute("INSERT INTO raw_outcome VALUES (%s, 'success', now()) ON CONFLICT DO NOTHING", [decision_id])
        cursor.execute("UPDATE raw_step SET status = 'succeeded', updated_at = now() WHERE id = %s", [step_id])
        _link(cursor, [("workflow.step_changed", {"step": step_id, "status": "succeeded"})])
        following = cursor.execute(
            "SELECT id FROM raw_step WHERE run = %s AND position = %s", [run, position + 1]
        ).fetchone()
    if following is not None:
        raw_step.delay(following[0])
