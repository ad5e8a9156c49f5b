"""A person's own notification preferences, and the landing of an approval link from a message."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from governance.models import Approval
from notifications import links
from notifications.delivery import channels_of
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
        "channels": channels_of(request.user, preference if preference.pk else None),
        "recent": Delivery.objects.filter(recipient=request.user).order_by("-created_at")[:RECENT],
    }
    return render(request, "notifications/preferences.html", context, status=status)


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
