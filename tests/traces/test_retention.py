"""Spans leave with retention (issue 20 item 3): archived in the signed evidence pack, verified, then deleted, on
their own period, counted from when Regent received them.

On PostgreSQL, with the real append-only trigger: retention is applied as if 168 days after NOW, so with the default
six-month periods the cutoff is NOW - 15 days.
"""

import datetime as dt
import gzip
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse

from audit import retention
from audit.evidence import public_key_b64
from audit.models import RetentionArchive
from governance.models import Decision
from tests.support.audit import wait_until_sequenced
from tests.support.clock import NOW
from traces.ingest import ingest
from traces.models import Span, TokenPrice
from traces.otlp import ReceivedSpan
from traces.usage import token_cost

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

LATER = NOW + dt.timedelta(days=168)
CUTOFF = LATER - dt.timedelta(days=183)


@pytest.fixture(autouse=True)
def on_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("retention is tested against PostgreSQL's triggers")


@pytest.fixture
def archive_dir(settings, tmp_path: Path) -> Path:
    directory = tmp_path / "archive"
    settings.RETENTION_ARCHIVE = directory.as_uri()
    return directory


def span(agent, received_at: dt.datetime, **fields) -> Span:
    """A model call as ingest stores it, received at `received_at`; the agent says it started a day later."""
    return Span.objects.create(
        agent=agent,
        department=agent.department,
        trace_id="ab" * 16,
        span_id=f"{Span.objects.count() + 1:016x}",
        name="chat gpt-4o",
        started_at=received_at + dt.timedelta(days=1),
        duration_us=900_000,
        request_model="gpt-4o",
        input_tokens=1000,
        output_tokens=100,
        cost=Decimal("0.012500"),
        input_messages='[{"role": "user", "parts": [{"type": "text", "content": "Pay invoice 7"}]}]',
        attributes={"gen_ai.request.temperature": 0.2},
        received_at=received_at,
        **fields,
    )


def archived_rows(table: str) -> list[dict]:
    """The rows of `table` the archives hold, read back from their files."""
    rows = []
    for archive in RetentionArchive.objects.order_by("pk"):
        with gzip.open(archive.location.removeprefix("file://"), "rt") as lines:
            records = [json.loads(line) for line in lines if line.startswith('{"kind":')]
        rows += [record["row"] for record in records if record["table"] == table]
    return rows


def test_exactly_the_spans_received_before_the_cutoff_are_archived_then_deleted(archive_dir, finance_agent):
    # Given spans received a month ago and a second before the cutoff, and one a second after it and one today
    gone = [span(finance_agent, NOW - dt.timedelta(days=30)), span(finance_agent, CUTOFF - dt.timedelta(seconds=1))]
    kept = [span(finance_agent, CUTOFF + dt.timedelta(seconds=1)), span(finance_agent, NOW)]

    # When retention runs six months on
    applied = retention.apply(now=LATER)

    # Then exactly the two expired spans are gone, and the archive holds them, every column as stored
    assert sorted(Span.objects.values_list("pk", flat=True)) == [s.pk for s in kept]
    assert applied[0].archive.records["traces_span"] == 2
    rows = archived_rows("traces_span")
    assert [row["id"] for row in rows] == [s.pk for s in gone]
    assert rows[0]["input_messages"] == gone[0].input_messages
    assert rows[0]["cost"] == "0.012500"
    assert rows[0]["attributes"] == {"gen_ai.request.temperature": 0.2}


def test_the_archive_holding_spans_verifies_offline(archive_dir, decide, finance_agent):
    # Given an old decision (with its audit events) and an old span, archived by retention
    decide(finance_agent, amount=10, now=NOW - dt.timedelta(days=30))
    span(finance_agent, NOW - dt.timedelta(days=30))
    wait_until_sequenced()
    retention.apply(now=LATER)

    # When an auditor checks each archive with the offline checker, pinning the organisation's key
    results = [
        subprocess.run(  # noqa: S603
            [
                sys.executable,
                "-m",
                "audit.evidence_check",
                path.removeprefix("file://"),
                "--public-key",
                public_key_b64(),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        for path in RetentionArchive.objects.order_by("pk").values_list("location", flat=True)
    ]

    # Then each verifies, and the span is among their records
    assert all(result.returncode == 0 and result.stdout.startswith("VALID") for result in results), results
    assert [row["span_id"] for row in archived_rows("traces_span")] == ["0000000000000001"]


def test_spans_follow_their_own_period_not_the_decisions(archive_dir, settings, decide, finance_agent):
    # Given spans kept 31 days, and a decision and a span both 40 days old
    settings.RETENTION_DAYS = {**settings.RETENTION_DAYS, "spans": 31}
    decision = decide(finance_agent, amount=10, now=NOW - dt.timedelta(days=40))
    span(finance_agent, NOW - dt.timedelta(days=40))
    recent = span(finance_agent, NOW - dt.timedelta(days=20))
    wait_until_sequenced()

    # When retention runs now
    retention.apply(now=NOW)

    # Then the old span has left and the decision, kept six months, stays
    assert list(Span.objects.values_list("pk", flat=True)) == [recent.pk]
    assert Decision.objects.filter(pk=decision.pk).exists()


def test_token_cost_outlives_the_spans_retention_takes(archive_dir, settings, finance_agent):
    # Given spans kept a week, and a model call 20 days old that cost 3.50, stored by ingest
    settings.RETENTION_DAYS = {**settings.RETENTION_DAYS, "spans": 7}
    TokenPrice.objects.create(model="gpt-4o", input_per_1k=Decimal("2.5"), output_per_1k=Decimal("10"))
    at = NOW - dt.timedelta(days=20)
    start = int(at.timestamp() * 1e9)
    attributes = {
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.usage.input_tokens": 1000,
        "gen_ai.usage.output_tokens": 100,
    }
    ingest(
        finance_agent,
        [ReceivedSpan("", "cd" * 16, "00000000000000aa", "", "chat", 3, start, start, False, "", attributes, [])],
    )
    Span.objects.update(received_at=at)

    # When retention runs now
    retention.apply(now=NOW)

    # Then the span has gone and what it cost is still counted
    assert not Span.objects.exists()
    assert token_cost(at - dt.timedelta(days=1), NOW, None) == {finance_agent.department_id: Decimal("3.5")}


def test_the_dry_run_counts_expired_spans(archive_dir, finance_agent):
    # Given one span received before the cutoff and one after
    span(finance_agent, NOW - dt.timedelta(days=30))
    span(finance_agent, NOW)

    # When retention is asked what has expired six months on
    counts = retention.expired(LATER)

    # Then one span is counted and nothing is deleted
    assert counts["spans"] == 1
    assert Span.objects.count() == 2


def test_the_integrity_page_says_how_long_spans_are_kept_and_that_the_cut_took_them(
    archive_dir, decide, finance_agent, client, dave
):
    # Given retention took an old decision and two old spans
    decide(finance_agent, amount=10, now=NOW - dt.timedelta(days=30))
    span(finance_agent, NOW - dt.timedelta(days=30))
    span(finance_agent, NOW - dt.timedelta(days=29))
    wait_until_sequenced()
    retention.apply(now=LATER)

    # When the Auditor opens the integrity page
    client.force_login(dave)
    page = client.get(reverse("dashboard:integrity")).content.decode()

    # Then spans have their own line and the last archive names them (the chain's first event, the agent's
    # registration, is recent: no event was due)
    assert "Agents&#x27; reasoning (trace spans)</dt><dd>kept 183 days (about 6 months)" in page
    assert "only 1 decision and 2 spans: archived to file://" in page


def test_an_archive_of_spans_alone_says_it_held_no_events(archive_dir, settings, finance_agent, client, dave):
    # Given spans kept 31 days and events six months: a span 40 days old leaves alone
    settings.RETENTION_DAYS = {**settings.RETENTION_DAYS, "spans": 31}
    span(finance_agent, NOW - dt.timedelta(days=40))
    retention.apply(now=NOW)

    # When the Auditor opens the integrity page
    client.force_login(dave)
    page = client.get(reverse("dashboard:integrity")).content.decode()

    # Then the last archive is said to hold the span and no events, and the log still starts at its first event
    assert "The last archive held no events, only 1 span: archived to file://" in page
    assert "The log starts at its first event." in page
