"""Verifying the chain while agents act: the check walks up to the head it read first, so it never reports a
break that is not there (it answered `ok: false` 9 times of 9 under the demo's load when it read the head last).
"""

import threading

import pytest
from django.db import connection

from audit.chain import verify_chain

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers on PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]

WRITERS = 12  # with the checker's and the sequencer's connections, 14 of the pool's 20: none waits out its timeout
CHECKS = 15


def test_the_chain_verifies_while_twelve_threads_write(decide, finance_agent):
    # Given twelve threads deciding as fast as they can
    stop, errors = threading.Event(), []

    def keep_deciding() -> None:
        try:
            while not stop.is_set():
                decide(finance_agent, action="report.read")
                connection.close()  # back to the pool, as at the end of a request: the check and the sequencer share it
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    writers = [threading.Thread(target=keep_deciding) for _ in range(WRITERS)]
    for writer in writers:
        writer.start()

    # When the chain is verified again and again meanwhile
    try:
        reports = [verify_chain() for _ in range(CHECKS)]
    finally:
        stop.set()
        for writer in writers:
            writer.join(30)

    # Then every check found the chain intact, and the chain grew while they ran
    assert errors == []
    assert [report.reason for report in reports if not report.ok] == []
    assert reports[-1].checked > reports[0].checked
