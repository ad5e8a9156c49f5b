"""Pause, resume and kill from an agent's or a department's page: a confirmation, a reason, then the change.

With JavaScript the confirmation is a dialog on the page; without it, the button opens this confirm page.
Either way the change is a POST here, through orchestration.kill_switch, the same functions as the API.
"""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from dashboard.controls import REASON_REQUIRED, StatusChangeForm, describe
from orchestration.kill_switch import change_agent_status, change_department_status, status_changes_for
from orchestration.models import Agent, Department, Status
from orchestration.scoping import visible_agents, visible_departments


@require_http_methods(["GET", "POST"])
@login_required
def agent_status(request: HttpRequest, agent_id: int) -> HttpResponse:
    agent = get_object_or_404(visible_agents(request.user), pk=agent_id)
    return _confirm_and_change(request, agent, change_agent_status, "dashboard:agent", {"agent_id": agent.pk})


@require_http_methods(["GET", "POST"])
@login_required
def department_status(request: HttpRequest, department_id: int) -> HttpResponse:
    department = get_object_or_404(visible_departments(request.user), pk=department_id)
    return _confirm_and_change(
        request, department, change_department_status, "dashboard:department", {"department_id": department.pk}
    )


def _confirm_and_change(
    request: HttpRequest, holder: Agent | Department, change: Callable[..., bool], page: str, page_args: dict
) -> HttpResponse:
    data = request.POST if request.method == "POST" else request.GET
    try:
        wanted = Status(data.get("status", ""))
    except ValueError:
        return HttpResponseBadRequest("Choose a status: active, paused or killed.")
    _check_may(request.user, holder, wanted)
    if wanted == holder.status:
        messages.info(request, f"{holder.name} is already {holder.get_status_display().lower()}.")
        return redirect(page, **page_args)
    if wanted not in status_changes_for(request.user, holder):
        messages.warning(request, f"{holder.name} cannot go from {holder.status} to {wanted.value}: resume it first.")
        return redirect(page, **page_args)
    if request.method == "POST":
        form = StatusChangeForm(request.POST)
        if form.is_valid():
            change(holder, wanted, by=request.user, reason=form.cleaned_data["reason"])
            messages.success(request, f"{holder.name} is now {wanted.label.lower()}.")
            return redirect(page, **page_args)
    else:
        form = StatusChangeForm(initial={"status": wanted})
    context = {
        "holder": holder,
        "control": describe(holder, wanted),
        "form": form,
        "status_url": request.path,
        "back": reverse(page, kwargs=page_args),
        "reason_required": REASON_REQUIRED,
    }
    return render(request, "dashboard/status_change.html", context, status=400 if form.is_bound else 200)


def _check_may(user, holder: Agent | Department, wanted: Status) -> None:
    """403 for a role that may not make this kind of change at all, whatever the holder's status now."""
    if not user.has_perm("orchestration.pause_agent"):
        raise PermissionDenied("Your role may not pause or resume.")
    touches_kill = Status.KILLED in (wanted, holder.status)
    if touches_kill and not user.has_perm("orchestration.kill_agent"):
        raise PermissionDenied("Your role may not kill or revive.")
    if isinstance(holder, Department) and wanted == Status.KILLED:
        raise PermissionDenied("A whole department is killed in the admin, not from its page.")
