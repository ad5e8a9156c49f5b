"""Telling people of an alert: the one place an alert leaves Regent.

`deliver` runs in the transaction that opens or resolves the alert. It writes the audit event, which is also the
live event (`alert.fired`, `alert.resolved`: the stream and webhook subscriptions carry it), and hands the same news
to `recipients(alert)` on the channels each chose (notifications.notify: email, Slack or Teams), sent after commit.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.urls import reverse

from alerting.models import Alert, AlertRule
from audit import chain
from notifications.delivery import Message, notify
from orchestration.roles import Role

ACTOR = "system:alerting"


def recipients(alert: Alert) -> QuerySet:
    """Active people with a role who must hear of it: Executives, and the Supervisors (and head) of the alert's
    department; the audit log's failing verification also goes to Auditors."""
    wanted = Q(groups__name=Role.EXECUTIVE)
    if alert.department_id is not None:
        department = Q(supervised_departments=alert.department_id) | Q(headed_departments=alert.department_id)
        wanted |= Q(groups__name=Role.SUPERVISOR) & department
    if alert.rule.kind == AlertRule.Kind.AUDIT_CHAIN:
        wanted |= Q(groups__name=Role.AUDITOR)
    return get_user_model().objects.filter(wanted, is_active=True).distinct().order_by("username")


def deliver(alert: Alert) -> None:
    """Tell the alert's recipients that it opened or resolved (its status says which)."""
    people = list(recipients(alert))
    kind = "alert.fired" if alert.status == Alert.Status.OPEN else "alert.resolved"
    after = {
        "alert_id": alert.pk,
        "rule": alert.rule.name,
        "rule_kind": alert.rule.kind,
        "status": alert.status,
        "subject_type": alert.subject_type,
        "subject_id": alert.subject_id,
        "subject_name": alert.subject_name,
        "summary": alert.summary,
        "figures": alert.figures,
        "opened_at": alert.opened_at.isoformat(),
        "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
        "resolution": alert.resolution,
        "recipients": [person.username for person in people],
    }
    if alert.subject_type == Alert.SubjectType.AGENT:
        after["agent_id"] = alert.subject_id
    chain.record(
        kind,
        subject_type="alert",
        subject_id=alert.pk,
        actor_label=ACTOR,
        department_id=alert.department_id,
        after=after,
        at=alert.resolved_at or alert.opened_at,
    )
    notify(people, message_of(alert))


def message_of(alert: Alert) -> Message:
    """The alert in words for people's channels: one message per opening and per resolution."""
    opened = alert.status == Alert.Status.OPEN
    subject = f"{'Alert' if opened else 'Resolved'}: {alert.rule.name} ({alert.subject_name})"
    text = alert.summary if opened else f"{alert.summary}\n\nResolved: {alert.resolution or 'the condition cleared'}."
    return Message(
        subject=subject,
        text=text,
        kind="alert.fired" if opened else "alert.resolved",
        key=f"alert-{alert.pk}-{alert.status}",
        severity="warning" if opened else "info",
        link=settings.SITE_URL.rstrip("/") + reverse("alerting:alerts"),
    )
