"""`/metrics` for operators' Prometheus: what the stores hold, read at scrape time, plus each process's own.

Decisions by verdict, open approvals, open alerts, webhook deliveries waiting or failed, messages to people by
outcome (alert and approval messages among them), the Celery queue and the audit sequencer's delay are read from
PostgreSQL and the broker when Prometheus scrapes, so they are the deployment's figures whichever process answers.
Evaluate latency and the live stream's sockets only a process can see (telemetry.instruments); with
PROMETHEUS_MULTIPROC_DIR set, a scrape adds up every process on the machine.

The endpoint answers only a bearer METRICS_TOKEN; with no token configured it does not exist (404).
"""

import hmac
import logging
import os
import time
from collections import defaultdict
from collections.abc import Iterator

from amqp.exceptions import ChannelError
from celery import current_app as celery_app
from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count, Min, Q
from django.utils import timezone
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from alerting.models import Alert, AlertRule
from audit.models import PendingEvent
from dashboard.kpis.snapshot import merge, snapshot
from dashboard.models import DAY, DepartmentRollup, RollupChange
from governance.models import Approval, Verdict
from integrations.models import WebhookDelivery
from notifications.models import Channel, Delivery

logger = logging.getLogger(__name__)
BROKER_TIMEOUT_SECONDS = 2
NOT_FOUND = "404"  # the reply code kombu's virtual transports (Redis) give a passive declare of an unknown queue


class StoresCollector(Collector):
    """Figures read from the database and the broker at each scrape."""

    def collect(self) -> Iterator[Metric]:
        started = time.perf_counter()
        up = GaugeMetricFamily("regent_metrics_stores_up", "1 if the database answered this scrape, else 0.")
        try:
            yield from self._database()
            up.add_metric([], 1)
        except DatabaseError:
            logger.warning("metrics: the database did not answer this scrape")
            up.add_metric([], 0)
        yield up
        yield from self._broker()
        took = GaugeMetricFamily("regent_metrics_scrape_seconds", "Time this scrape spent reading the stores.")
        took.add_metric([], time.perf_counter() - started)
        yield took

    def _database(self) -> Iterator[Metric]:
        with snapshot():
            by_verdict = merge(
                (DepartmentRollup.objects.filter(grain=DAY), RollupChange.objects.filter(policy__isnull=True)),
                None,
                ("verdict",),
                ("decisions",),
            )
            pending = Approval.objects.filter(status=Approval.Status.PENDING).aggregate(
                count=Count("pk"), oldest=Min("requested_at")
            )
            deliveries = dict(
                WebhookDelivery.objects.exclude(status=WebhookDelivery.Status.DELIVERED)
                .values_list("status")
                .annotate(Count("pk"))
                .order_by()
            )
            outcomes = list(
                Delivery.objects.values("channel", "kind", "status")
                .annotate(count=Count("pk"), tried=Count("pk", filter=Q(attempts__gt=0)))
                .order_by()
            )
            open_alerts = dict(
                Alert.objects.filter(status=Alert.Status.OPEN)
                .values_list("rule__kind")
                .annotate(Count("pk"))
                .order_by()
            )
            queue = PendingEvent.objects.aggregate(count=Count("pk"), oldest=Min("queued_at"))
        now = timezone.now()

        decisions = CounterMetricFamily(
            "regent_decisions",
            "Decisions recorded, by verdict, since the start (the rollups keep them past retention: it only grows).",
            labels=["verdict"],
        )
        for verdict in Verdict.values:
            decisions.add_metric([verdict], by_verdict.get((verdict,), {}).get("decisions", 0))
        yield decisions

        yield _gauge(
            "regent_approvals_open", "Decisions waiting for a person to approve or reject them.", pending["count"]
        )
        yield _gauge(
            "regent_approvals_oldest_waiting_seconds",
            "How long the oldest open approval has waited (0 when none is open).",
            _age(pending["oldest"], now),
        )
        failures = GaugeMetricFamily(
            "regent_webhook_deliveries",
            "Webhook deliveries not delivered: pending (being retried) or failed (retries exhausted).",
            labels=["status"],
        )
        for status in (WebhookDelivery.Status.PENDING, WebhookDelivery.Status.FAILED):
            failures.add_metric([status], deliveries.get(status, 0))
        yield failures
        notifications: dict[tuple[str, str], int] = defaultdict(int)
        for row in outcomes:
            notifications[row["channel"], row["status"]] += row["count"]
        unsent = GaugeMetricFamily(
            "regent_notification_deliveries",
            "Messages to people not delivered, by channel: pending (being retried) or failed (retries exhausted).",
            labels=["channel", "status"],
        )
        for channel in Channel.values:
            for status in (Delivery.Status.PENDING, Delivery.Status.FAILED):
                unsent.add_metric([channel, status], notifications.get((channel, status), 0))
        yield unsent
        yield _delivery_outcomes(outcomes)
        alerts = GaugeMetricFamily(
            "regent_alerts_open", "Alerts open now, by the kind of rule that opened them.", labels=["rule_kind"]
        )
        for kind in AlertRule.Kind.values:
            alerts.add_metric([kind], open_alerts.get(kind, 0))
        yield alerts
        yield _gauge(
            "regent_audit_queue_events",
            "Audit events committed and waiting for the sequencer to chain them.",
            queue["count"],
        )
        yield _gauge(
            "regent_audit_queue_oldest_seconds",
            "How long the oldest queued audit event has waited: the sequencer's delay (0 when the queue is empty).",
            _age(queue["oldest"], now),
        )

    def _broker(self) -> Iterator[Metric]:
        if settings.CELERY_TASK_ALWAYS_EAGER:  # no broker: tasks run in the process that sends them
            return
        depth = GaugeMetricFamily(
            "regent_celery_queue_messages", "Tasks waiting in the broker for a worker.", labels=["queue"]
        )
        queue = celery_app.conf.task_default_queue
        bounded = {"socket_timeout": BROKER_TIMEOUT_SECONDS, "socket_connect_timeout": BROKER_TIMEOUT_SECONDS}
        try:
            with celery_app.connection_for_read(transport_options=bounded) as connection:
                depth.add_metric([queue], _messages(connection, queue))
        except Exception:  # whatever the broker's failure, the scrape still answers, without this figure
            logger.warning("metrics: the broker did not answer this scrape")
            return
        yield depth


def _messages(connection, queue: str) -> int:
    """Messages waiting in `queue`; none when no worker has declared it yet (the broker does not know it)."""
    try:
        return connection.default_channel.queue_declare(queue=queue, passive=True).message_count
    except ChannelError as error:
        if str(error.reply_code) == NOT_FOUND:
            return 0
        raise


OUTCOMES = {Delivery.Status.DELIVERED: "sent", Delivery.Status.FAILED: "failed"}


def _delivery_outcomes(rows: list[dict]) -> GaugeMetricFamily:
    """Deliveries on record by channel, kind and outcome: sent, failed (retries exhausted), retrying (failed at
    least once, tried again later) or queued (not tried yet). Every outcome of every channel appears for each kind
    on record, zeros included, so a rate or a ratio has both sides."""
    counts: dict[tuple[str, str, str], int] = defaultdict(int)
    for row in rows:
        if row["status"] == Delivery.Status.PENDING:
            counts[row["channel"], row["kind"], "retrying"] += row["tried"]
            counts[row["channel"], row["kind"], "queued"] += row["count"] - row["tried"]
        else:
            counts[row["channel"], row["kind"], OUTCOMES[row["status"]]] += row["count"]
    family = GaugeMetricFamily(
        "regent_notification_delivery_outcomes",
        "Messages to people (approval requests, alerts, tests) on record, by channel, kind and outcome: sent, "
        "failed, retrying or queued. Kept NOTIFY_RETENTION_DAYS: compare changes over time, not totals.",
        labels=["channel", "kind", "outcome"],
    )
    for kind in sorted({row["kind"] for row in rows}):
        for channel in Channel.values:
            for outcome in ("sent", "failed", "retrying", "queued"):
                family.add_metric([channel, kind, outcome], counts.get((channel, kind, outcome), 0))
    return family


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _age(moment, now) -> float:
    return max(0.0, (now - moment).total_seconds()) if moment else 0.0


def registry() -> CollectorRegistry:
    """This process's instruments (or, with PROMETHEUS_MULTIPROC_DIR, every process's) and the stores'."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        scraped = CollectorRegistry()
        multiprocess.MultiProcessCollector(scraped)
    else:
        scraped = CollectorRegistry()
        scraped.register(_ProcessInstruments())
    scraped.register(StoresCollector())
    return scraped


class _ProcessInstruments(Collector):
    """The default registry's metrics (telemetry.instruments, and the process's CPU and memory)."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def authorised(header: str) -> bool:
    """A bearer token equal to METRICS_TOKEN, compared in constant time."""
    scheme, _, token = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.encode(), settings.METRICS_TOKEN.encode())


def exposition() -> bytes:
    return generate_latest(registry())
