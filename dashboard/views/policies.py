"""The Policies page: read-only, in plain words, for everyone with a role; Policy Admins edit in the admin."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dashboard.periods import FilterForm
from dashboard.policies import policy_rows
from dashboard.views.access import executive_page


@executive_page
def policies(request: HttpRequest, filters: FilterForm) -> HttpResponse:
    period = filters.get_period()
    context = {"filters": filters, "period": period, "rows": policy_rows(request.user, period)}
    return render(request, "dashboard/policies.html", context)
