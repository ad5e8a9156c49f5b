"""Which alerts a person sees: those of their departments, and the organisation's for organisation-wide roles."""

import datetime as dt

from django.db.models import QuerySet

from alerting.models import Alert
from orchestration.roles import sees_whole_organisation
from orchestration.scoping import visible_departments

RECENT_DAYS = 7


def alerts_for(viewer) -> QuerySet[Alert]:
    alerts = Alert.objects.select_related("rule", "department")
    if sees_whole_organisation(viewer):
        return alerts
    return alerts.filter(department__in=visible_departments(viewer))


def open_and_recent(viewer, now: dt.datetime, limit: int = 100) -> tuple[list[Alert], list[Alert]]:
    """The open alerts, newest first, and those resolved in the last RECENT_DAYS days."""
    alerts = alerts_for(viewer)
    open_alerts = list(alerts.filter(status=Alert.Status.OPEN).order_by("-opened_at", "-pk")[:limit])
    since = now - dt.timedelta(days=RECENT_DAYS)
    resolved = alerts.filter(status=Alert.Status.RESOLVED, resolved_at__gte=since)
    return open_alerts, list(resolved.order_by("-resolved_at", "-pk")[:limit])
