"""/metrics: Prometheus's text format for the operators' scraper, only with the metrics token.

The figures the stores hold are read at scrape time, so they equal what the database says; the evaluate latency
and the stream's sockets are the process's own (tests/test_procfile.py checks them added up across processes).
"""

import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone
from kombu import Connection
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from alerting.evaluation import evaluate_rules
from alerting.models import AlertRule
from audit.models import PendingEvent
from config.celery import app as celery_app
from dashboard.stream.hub import MAX_PENDING, Hub, Subscriber
from governance.models import Effect, Verdict
from integrations.models import WebhookDelivery, WebhookSubscription
from notifications.models import Delivery, Preference
from notifications.tasks import deliver_notification
from orchestration.keys import issue_key
from orchestration.kill_switch import change_agent_status
from orchestration.models import Status
from tests.factories import DecisionFactory
from tests.support.parallel import broker_url

pytestmark = pytest.mark.django_db

URL = reverse("metrics")
TOKEN = "m" * 40


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN


def scrape(client, token: str = TOKEN) -> dict[str, float]:
    """The scrape as {"name{label=value}": value}, parsed by prometheus-client's own parser."""
    response = client.get(URL, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return samples


# Who may scrape


def test_without_a_configured_token_there_is_no_metrics_endpoint(client, settings):
    settings.METRICS_TOKEN = ""

    response = client.get(URL, headers={"Authorization": "Bearer anything"})

    assert response.status_code == 404


@pytest.mark.parametrize("header", ["", "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
def test_a_scrape_without_the_right_token_is_refused_and_shows_nothing(client, metrics_on, header):
    DecisionFactory()

    response = client.get(URL, headers={"Authorization": header} if header else {})

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"regent_" not in response.content


def test_a_signed_in_administrator_still_needs_the_token(admin_client, metrics_on):
    assert admin_client.get(URL).status_code == 401


def test_only_get_is_answered(client, metrics_on):
    assert client.post(URL, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 405


# What the stores hold


def test_decisions_are_counted_by_verdict(client, metrics_on, finance_agent):
    DecisionFactory.create_batch(3, agent=finance_agent, verdict=Verdict.ALLOW)
    DecisionFactory(agent=finance_agent, verdict=Verdict.DENY)

    samples = scrape(client)

    assert samples['regent_decisions_total{verdict="allow"}'] == 3
    assert samples['regent_decisions_total{verdict="deny"}'] == 1
    assert samples['regent_decisions_total{verdict="require_approval"}'] == 0
    assert samples["regent_metrics_stores_up"] == 1


def test_open_approvals_and_the_oldest_wait_are_shown(client, metrics_on, finance_agent, make_policy):
    make_policy(effect=Effect.REQUIRE_APPROVAL, approver_role="Supervisor", actions="invoice.approve")
    key = issue_key(finance_agent)
    for _ in range(2):
        answer = client.post(
            reverse("decision-evaluate"),
            json.dumps({"action": "invoice.approve", "amount": "10.00", "currency": "USD"}),
            content_type="application/json",
            headers={"Authorization": f"Bearer {key}"},
        )
        assert answer.json()["verdict"] == Verdict.REQUIRE_APPROVAL

    samples = scrape(client)

    assert samples["regent_approvals_open"] == 2
    assert samples["regent_approvals_oldest_waiting_seconds"] >= 0
    assert samples['regent_decisions_total{verdict="require_approval"}'] == 2


def test_webhook_deliveries_waiting_or_failed_are_counted(client, metrics_on):
    subscription = WebhookSubscription.objects.create(url="https://erp.example.com/hook", event_types=["*"])
    for n, status in enumerate(["failed", "failed", "pending", "delivered"]):
        WebhookDelivery.objects.create(
            subscription=subscription, event_id=n + 1, event_type="decision.created", payload={}, status=status
        )

    samples = scrape(client)

    assert samples['regent_webhook_deliveries{status="failed"}'] == 2
    assert samples['regent_webhook_deliveries{status="pending"}'] == 1


def test_notification_deliveries_waiting_or_failed_are_counted_by_channel(client, metrics_on, bob):
    for n, (channel, status) in enumerate([("email", "failed"), ("slack", "pending"), ("email", "delivered")]):
        Delivery.objects.create(
            recipient=bob,
            channel=channel,
            key=f"k{n}",
            kind="approval.requested",
            severity="info",
            subject="s",
            text="t",
            status=status,
        )

    samples = scrape(client)

    assert samples['regent_notification_deliveries{channel="email",status="failed"}'] == 1
    assert samples['regent_notification_deliveries{channel="slack",status="pending"}'] == 1
    assert samples['regent_notification_deliveries{channel="email",status="pending"}'] == 0
    assert samples['regent_notification_deliveries{channel="teams",status="failed"}'] == 0


def test_an_alert_message_that_failed_is_counted_by_channel_kind_and_outcome(
    client, metrics_on, settings, serve, finance_agent, alice, bob
):
    # Given Bob, Finance's Supervisor, on Slack through a webhook that answers 500, alice (Executive) on Teams
    # through one that works, one attempt each before a delivery is given up, and a rule on the kill switch
    settings.EMAIL_HOST, settings.NOTIFY_MAX_ATTEMPTS = "", 1
    settings.CHAT_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    broken, working = serve(lambda _request: (500, "down")), serve(lambda _request: (200, "ok"))
    Preference.objects.create(user=bob, email=False, chat="slack", chat_webhook_url=broken.url)
    Preference.objects.create(user=alice, email=False, chat="teams", chat_webhook_url=working.url)
    AlertRule.objects.create(name="Kill switch used", kind="kill_switch")
    change_agent_status(finance_agent, Status.KILLED, by=alice, reason="Paid a fake invoice")

    # When the rule fires, and each delivery is attempted as a worker would
    evaluate_rules()
    for delivery in Delivery.objects.all():
        deliver_notification(delivery.pk)

    # Then the scrape counts the failed Slack message and the sent Teams one, by kind, and the open alert
    samples = scrape(client)
    assert len(broken.received) == 1 and len(working.received) == 1
    outcome = 'regent_notification_delivery_outcomes{{channel="{}",kind="alert.fired",outcome="{}"}}'
    assert samples[outcome.format("slack", "failed")] == 1
    assert samples[outcome.format("teams", "sent")] == 1
    assert samples[outcome.format("slack", "sent")] == 0
    assert samples[outcome.format("email", "retrying")] == 0
    assert samples['regent_alerts_open{rule_kind="kill_switch"}'] == 1
    assert samples['regent_alerts_open{rule_kind="budget"}'] == 0


def test_a_delivery_tried_and_waiting_for_its_next_attempt_is_retrying(client, metrics_on, bob):
    # Given two alert messages to Bob not yet delivered: one failed once (its next attempt queued), one not tried
    for key, attempts in (("alert-1-open", 1), ("alert-2-open", 0)):
        Delivery.objects.create(
            recipient=bob,
            channel="slack",
            key=key,
            kind="alert.fired",
            severity="warning",
            subject="s",
            text="t",
            attempts=attempts,
        )

    # When Prometheus scrapes
    samples = scrape(client)

    # Then one is retrying, the other queued
    assert samples['regent_notification_delivery_outcomes{channel="slack",kind="alert.fired",outcome="retrying"}'] == 1
    assert samples['regent_notification_delivery_outcomes{channel="slack",kind="alert.fired",outcome="queued"}'] == 1


def test_the_audit_queue_and_its_oldest_entry_are_shown(client, metrics_on):
    PendingEvent.objects.create(
        occurred_at=timezone.now(),
        queued_at=timezone.now() - dt.timedelta(seconds=30),
        actor_label="system",
        kind="agent.paused",
        subject_type="agent",
        subject_id="1",
        before={},
        after={},
    )

    samples = scrape(client)

    assert samples["regent_audit_queue_events"] >= 1
    assert samples["regent_audit_queue_oldest_seconds"] >= 30


def test_the_celery_queue_depth_is_read_from_the_broker(client, metrics_on, settings, monkeypatch, redis_url):
    # Given a Redis broker holding two tasks that no worker has taken
    broker = broker_url(redis_url)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(celery_app.conf, "broker_url", broker)
    with Connection(broker) as connection:
        connection.default_channel.client.flushdb()
        queue = connection.SimpleQueue(celery_app.conf.task_default_queue)
        queue.put({"task": "none"})
        queue.put({"task": "none"})
        queue.close()
    try:
        # When Prometheus scrapes
        samples = scrape(client)
    finally:
        with Connection(broker) as connection:
            connection.default_channel.client.flushdb()

    # Then it reads the two waiting tasks
    assert samples[f'regent_celery_queue_messages{{queue="{celery_app.conf.task_default_queue}"}}'] == 2


def test_a_broker_that_does_not_answer_leaves_its_figure_out_and_the_rest_in(client, metrics_on, settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:9/0")  # nothing listens on port 9
    DecisionFactory(verdict=Verdict.ALLOW)

    samples = scrape(client)

    assert not any(name.startswith("regent_celery_queue_messages") for name in samples)
    assert samples['regent_decisions_total{verdict="allow"}'] == 1


# What the process sees


def test_each_evaluate_is_timed(client, metrics_on, finance_agent):
    key = issue_key(finance_agent)
    before = REGISTRY.get_sample_value("regent_evaluate_seconds_count") or 0

    for _ in range(3):
        client.post(
            reverse("decision-evaluate"),
            json.dumps({"action": "invoice.approve"}),
            content_type="application/json",
            headers={"Authorization": f"Bearer {key}"},
        )

    samples = scrape(client)
    assert samples["regent_evaluate_seconds_count"] == before + 3
    assert samples['regent_evaluate_seconds_bucket{le="+Inf"}'] == before + 3


def test_stream_sockets_are_counted_while_connected_and_a_dropped_client_is_counted(finance):
    hub, clients = Hub(), REGISTRY.get_sample_value("regent_stream_clients")
    dropped = REGISTRY.get_sample_value("regent_stream_dropped_total")
    subscriber = Subscriber(scope=_everything())

    hub.register(subscriber)
    hub.register(subscriber)  # registering twice is one socket
    assert REGISTRY.get_sample_value("regent_stream_clients") == clients + 1

    for n in range(1, MAX_PENDING + 2):  # past MAX_PENDING events waiting: the client is told to reload
        subscriber.offer({"id": n}, "{}")
    assert REGISTRY.get_sample_value("regent_stream_dropped_total") == dropped + 1

    hub.unregister(subscriber)
    hub.unregister(subscriber)
    assert REGISTRY.get_sample_value("regent_stream_clients") == clients


def _everything():
    class Everything:
        def allows(self, event: dict) -> bool:
            return True

    return Everything()
