"""The alerts page: open and recently resolved alerts of the viewer's scope, kept live by static/js/alerts.js."""

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from alerting.listing import RECENT_DAYS, open_and_recent
from audit.chain import last_event_id


@login_required
@permission_required("alerting.view_alert", raise_exception=True)
def alerts_page(request: HttpRequest) -> HttpResponse:
    stream_start = last_event_id()  # read before the alerts: the page resumes the stream from here
    context = _sections(request) | {"stream": {"start": stream_start}}
    return render(request, "alerting/alerts.html", context)


@never_cache
@login_required
@permission_required("alerting.view_alert", raise_exception=True)
def alert_sections(request: HttpRequest) -> HttpResponse:
    """The two lists alone, which the open page fetches when the stream says an alert opened or resolved: read
    again here with the viewer's scope, whatever the event said."""
    return render(request, "alerting/alert_sections.html", _sections(request))


def _sections(request: HttpRequest) -> dict:
    now = timezone.now()
    open_alerts, resolved = open_and_recent(request.user, now)
    return {"open_alerts": open_alerts, "resolved": resolved, "recent_days": RECENT_DAYS, "now": now}
