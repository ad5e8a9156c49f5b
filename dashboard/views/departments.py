"""The Departments pages, read-only for everyone with a role, with leaders' controls on a department's page."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone

from audit.chain import last_event_id
from dashboard.controls import REASON_REQUIRED, controls_for
from dashboard.departments import BudgetUse, agent_rows, department_rows
from dashboard.periods import FilterForm
from dashboard.views.access import executive_page
from governance.budgets import spent_this_month
from orchestration.kill_switch import status_history
from orchestration.scoping import visible_departments


@executive_page
def departments(request: HttpRequest, filters: FilterForm) -> HttpResponse:
    return render(request, "dashboard/departments.html", {"rows": department_rows(request.user, timezone.now())})


@executive_page
def department_page(request: HttpRequest, filters: FilterForm, department_id: int) -> HttpResponse:
    stream_start = last_event_id()  # read before the page: live status changes resume from here
    department = get_object_or_404(visible_departments(request.user), pk=department_id)
    now = timezone.now()
    context = {
        "department": department,
        "budget": BudgetUse(spent_this_month(department, now), department.monthly_budget),
        "agents": agent_rows(department, now),
        "controls": controls_for(request.user, department),
        "holder": department,
        "status_url": reverse("dashboard:department-status", args=[department.pk]),
        "reason_required": REASON_REQUIRED,
        "history": status_history(department),
        "stream": {"start": stream_start, "department": department.pk},
    }
    return render(request, "dashboard/department.html", context)
