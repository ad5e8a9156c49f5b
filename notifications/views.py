"""A person's own notification preferences, and the landing of an approval link from a message."""

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from governance.models import Approval
from notifications import links
from notifications.delivery import Message, channels_of, notify
from notifications.forms import PreferenceForm
from notifications.models import Delivery, Preference

RECENT = 20


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    preference = Preference.objects.filter(user=request.user).first() or Preference(user=request.user)
    form = PreferenceForm(request.POST or None, instance=preference)
    if request.method == "POST":
        if form.is_valid():
            form.save()
            messages.success(request, "Your notification preferences are saved.")
            return redirect("notifications:preferences")
        status = 400
    else:
        status = 200
    context = {
        "form": form,
        "has_chat_webhook": bool(preference.chat_webhook_url),
        "email_configured": bool(settings.EMAIL_HOST),
        "channels": channels_of(request.user, preference if preference.pk else None),
        "recent": Delivery.objects.filter(recipient=request.user).order_by("-created_at")[:RECENT],
    }
    return render(request, "notifications/preferences.html", context, status=status)


@require_POST
@login_required
def send_test(request: HttpRequest) -> HttpResponse:
    """A message to oneself on every chosen channel, to check a webhook URL or an address works."""
    message = Message(
        subject="Regent test message",
        text=f"You asked Regent for a test message. It reached you here, {request.user.get_username()}.",
        kind="test",
        key=f"test-{uuid.uuid4().hex}",
        link=settings.SITE_URL.rstrip("/") + reverse("notifications:preferences"),
    )
    if notify([request.user], message):
        messages.success(request, "A test message is on its way: its delivery is listed below.")
    else:
        messages.error(request, "There is nowhere to send it: choose a channel first.")
    return redirect("notifications:preferences")


@never_cache
@login_required
def approval_link(request: HttpRequest, token: str) -> HttpResponse:
    """Open the request a message's link names, on its decision page; the link alone never decides anything."""
    try:
        link = links.follow(token, request.user)
    except links.LinkRefused as exc:
        context = {"reason": str(exc), "inbox": reverse("dashboard:approvals")}
        return render(request, "notifications/link_refused.html", context, status=exc.status_code)
    decision_id = Approval.objects.filter(pk=link.approval_id).values_list("decision_id", flat=True).first()
    if decision_id is None:
        context = {"reason": "The request this link names no longer exists.", "inbox": reverse("dashboard:approvals")}
        return render(request, "notifications/link_refused.html", context, status=404)
    return redirect(f"{reverse('dashboard:decision', args=[decision_id])}#approval-heading")
