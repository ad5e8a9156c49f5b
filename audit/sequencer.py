"""The sequencer: the one process that links queued audit events into the chain (AUDIT_SEQUENCING=queued).

Several may run (`manage.py sequence_audit`, the Procfile's `sequencer`); a PostgreSQL session advisory
lock, held on a connection of its own, elects the active one and the others stand by, taking over within
STANDBY_SECONDS of its connection closing (the process died or lost the database). The election only saves
work: two sequencers integrating at once still take turns on the chain head (`chain.integrate`).

Writers do not wake it: a NOTIFY in every writer's transaction would serialise their commits on PostgreSQL's
notification lock, which is what queuing takes away. It polls instead, every POLL_SECONDS while the queue is
empty and at once after a full batch, so an event is chained within about POLL_SECONDS plus one batch of
its writer's commit.
"""

import logging
import threading
import time

import psycopg
from django.db import DatabaseError, connection

from audit import chain, events

logger = logging.getLogger(__name__)
POLL_SECONDS = 0.02
STANDBY_SECONDS = 1.0
ELECTION_LOCK = (7_204_122, 1)  # an advisory lock class of its own (beside the kill switch's 7_204_120-121)


def run(stop: threading.Event) -> None:
    """Integrate queued events while this process is the elected sequencer, until `stop` is set."""
    while not stop.is_set():
        try:
            with psycopg.connect(**events.session_parameters(), autocommit=True) as election:
                while not stop.is_set() and not _elected(election):
                    stop.wait(STANDBY_SECONDS)
                if not stop.is_set():
                    logger.info("elected: this process sequences the audit chain")
                    _sequence_while_elected(election, stop)
        except (psycopg.Error, DatabaseError):
            logger.warning("the audit sequencer lost the database; trying again", exc_info=True)
            connection.close_if_unusable_or_obsolete()
            stop.wait(STANDBY_SECONDS)
    connection.close()


def _elected(election: psycopg.Connection) -> bool:
    return election.execute("SELECT pg_try_advisory_lock(%s, %s)", ELECTION_LOCK).fetchone()[0]


def _sequence_while_elected(election: psycopg.Connection, stop: threading.Event) -> None:
    """Integrate until stopped; check every STANDBY_SECONDS that the election connection (and lock) holds."""
    checked = time.monotonic()
    while not stop.is_set():
        if chain.integrate() < chain.INTEGRATE_BATCH:
            stop.wait(POLL_SECONDS)
        if time.monotonic() - checked >= STANDBY_SECONDS:
            election.execute("SELECT 1")  # raises once the connection, and with it the lock, is gone
            checked = time.monotonic()
