"""The alerts page: open and recently resolved alerts of the viewer's scope."""

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from alerting.listing import RECENT_DAYS, open_and_recent


@login_required
@permission_required("alerting.view_alert", raise_exception=True)
def alerts_page(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    open_alerts, resolved = open_and_recent(request.user, now)
    context = {"open_alerts": open_alerts, "resolved": resolved, "recent_days": RECENT_DAYS, "now": now}
    return render(request, "alerting/alerts.html", context)
