"""The stream across real processes: a uvicorn server and a Celery worker sharing PostgreSQL and Redis with
the test. Whichever process makes an event, a client of the server receives it, once.

The worker listens on a queue of its own (not `celery`): the Redis may be shared with other test runs,
whose workers must not take this test's tasks, nor this worker theirs.
"""

import datetime as dt
import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import psycopg
import pytest
from django.conf import settings
from django.utils import timezone

from audit import events
from audit.models import AuditEvent
from config.celery import app as celery_app
from dashboard.stream import hub as hub_module
from governance.models import Approval, Effect
from governance.tasks import escalate_overdue_approvals
from orchestration.keys import issue_key
from tests.support.stream import committed_decision_events, decide, open_stream

API_DECISIONS = 200
API_THREADS = 4
LOAD_SECONDS = 120
WORKER_SECONDS = 30
INVOICE = {"action": "invoice.approve", "resource": "invoice/4711", "amount": "12.00", "currency": "EUR"}


def evaluate_over_http(server: str, key: str) -> dict:
    request = urllib.request.Request(  # noqa: S310 (the test's own server)
        f"{server}/api/v1/decisions/evaluate",
        data=json.dumps(INVOICE).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.load(response)


def ws_url(server: str) -> str:
    return server.replace("http://", "ws://", 1)


@pytest.mark.processes
@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_decision_made_through_the_servers_api_reaches_its_client(
    start_server, postgres_url, redis_url, alice, finance_agent
):
    # Given a server process on the shared database and Redis, with alice watching it
    server = start_server(DATABASE_URL=postgres_url, REDIS_URL=redis_url)
    key = issue_key(finance_agent)
    with open_stream(ws_url(server), user=alice) as stream:
        stream.hello()

        # When the Finance agent asks through the server's API
        answer = evaluate_over_http(server, key)

        # Then alice receives that decision
        [event] = stream.events(1)
    assert (event["type"], event["data"]["id"], event["agent_id"]) == (
        "decision.created",
        answer["decision_id"],
        finance_agent.pk,
    )


@pytest.mark.processes
@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_an_escalation_made_by_a_celery_worker_reaches_a_client_of_the_server(
    start_server, start_worker, postgres_url, redis_url, alice, finance_agent, make_policy
):
    # Given a request held for approval whose deadline has passed, and a server and a worker on the shared
    # database and Redis, with alice watching the server
    make_policy(effect=Effect.REQUIRE_APPROVAL, approver_role="Supervisor", actions="invoice.approve")
    approval = decide(finance_agent, "invoice.approve", amount=120).approval
    Approval.objects.filter(pk=approval.pk).update(deadline=timezone.now() - dt.timedelta(minutes=1))
    server = start_server(DATABASE_URL=postgres_url, REDIS_URL=redis_url)
    queue = start_worker(DATABASE_URL=postgres_url, REDIS_URL=redis_url)
    with open_stream(ws_url(server), user=alice) as stream:
        stream.hello()

        # When the escalation task is sent to the worker through the broker (not run here: Celery is not eager),
        # on a connection of its own rather than the app's shared pool, which other tests point elsewhere
        assert settings.CELERY_TASK_ALWAYS_EAGER is False
        with celery_app.connection_for_write(redis_url) as broker:
            escalate_overdue_approvals.apply_async(queue=queue, connection=broker)

        # Then alice receives the escalation the worker recorded
        [event] = stream.events(1, timeout=WORKER_SECONDS)
    assert (event["type"], event["data"]["approval_id"], event["data"]["approver_role"]) == (
        "approval.escalated",
        approval.pk,
        "Executive",
    )
    assert AuditEvent.objects.get(seq=event["id"]).actor_label == "system:deadline"


@pytest.mark.processes
@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_under_concurrent_api_load_each_client_receives_its_scopes_events_once_and_in_order(
    start_server, postgres_url, redis_url, alice, bob, finance_agent, support_agent, finance
):
    # Given a server process, with alice (everything) and bob (Finance) watching it
    server = start_server(DATABASE_URL=postgres_url, REDIS_URL=redis_url)
    keys = [issue_key(finance_agent), issue_key(support_agent)]
    with open_stream(ws_url(server), user=alice) as everything, open_stream(ws_url(server), user=bob) as finance_only:
        start = everything.hello()
        finance_only.hello()

        # When agents of both departments make decisions through the API from several threads at once
        with ThreadPoolExecutor(API_THREADS) as pool:
            answers = list(pool.map(lambda n: evaluate_over_http(server, keys[n % 2]), range(API_DECISIONS)))
        expected_all = committed_decision_events(after=start)
        expected_finance = committed_decision_events(after=start, department_id=finance.pk)
        received_all = everything.events_through(expected_all[-1], timeout=LOAD_SECONDS) + everything.events_within()
        received_finance = finance_only.events_through(expected_finance[-1], timeout=LOAD_SECONDS)
        received_finance += finance_only.events_within()

    # Then each received exactly the committed decisions of its scope: none lost, none twice, in order
    assert len(answers) == len(expected_all) == API_DECISIONS
    assert [event["id"] for event in received_all] == expected_all
    assert [event["id"] for event in received_finance] == expected_finance
    assert len(expected_finance) == API_DECISIONS // 2


@pytest.mark.postgres
def test_events_another_regent_announces_on_the_same_postgresql_never_reach_this_stream(
    watch, alice, finance_agent, postgres_url
):
    # Given alice watching, and another Regent with its own database on the same PostgreSQL server
    stream = watch(user=alice)
    foreign = {
        "seq": stream.starts_after + 1,
        "kind": "decision.created",
        "occurred_at": timezone.now().isoformat(),
        "department_id": finance_agent.department_id,
        "subject_type": "decision",
        "subject_id": "1",
        "after": {"id": 1, "agent_name": "Someone else's bot", "verdict": "allow", "risk_score": 0},
    }

    # When the other Regent announces an event on the same channel, and then this one records a decision
    another_database = urlsplit(postgres_url)._replace(path="/postgres").geturl()
    with psycopg.connect(another_database, autocommit=True) as another:
        another.execute("SELECT pg_notify(%s, %s)", [events.NOTIFY_CHANNEL, json.dumps([foreign])])
    decision = decide(finance_agent)

    # Then alice receives this Regent's decision, and nothing of the other's
    [event] = stream.events(1)
    assert (event["data"]["id"], event["data"]["agent_name"]) == (decision.pk, "Invoice Bot")
    assert stream.events_within() == []


@pytest.mark.postgres
def test_an_unreadable_notification_on_the_channel_neither_breaks_the_stream_nor_reaches_a_client(
    watch, alice, finance_agent, postgres_url, monkeypatch
):
    # Given alice watching, and the hub reading the audit table back only when told to
    monkeypatch.setattr(hub_module, "POLL_SECONDS", 3600)
    stream = watch(user=alice)

    # When something that is not Regent's payload is announced on the channel of this very database, and
    # then a decision is recorded
    with psycopg.connect(postgres_url, autocommit=True) as same_database:
        for garbage in ("not json", '[{"seq": "x"}]', "[1]"):
            same_database.execute("SELECT pg_notify(%s, %s)", [events.NOTIFY_CHANNEL, garbage])
    decision = decide(finance_agent)

    # Then the stream carries on and alice receives the decision, once, and nothing else
    [event] = stream.events(1)
    assert (event["data"]["id"], event["type"]) == (decision.pk, "decision.created")
    assert stream.events_within() == []
