"""The overview's panel of open alerts, drawn by the alerting app so the dashboard needs no import of it."""

import datetime as dt

from django import template

from alerting.listing import alerts_for
from alerting.models import Alert
from dashboard.headline import wait_words

register = template.Library()
PANEL_ROWS = 5


@register.inclusion_tag("alerting/open_alerts_panel.html")
def open_alerts_panel(user) -> dict:
    if not user.has_perm("alerting.view_alert"):
        return {"shown": False}
    open_alerts = alerts_for(user).filter(status=Alert.Status.OPEN).order_by("-opened_at", "-pk")
    return {"shown": True, "alerts": list(open_alerts[:PANEL_ROWS]), "count": open_alerts.count()}


@register.filter
def waited_until(start: dt.datetime, end: dt.datetime) -> str:
    """How long from start to end, as a person says it: "under a minute", "3 h 10 min"."""
    return wait_words(end - start)
