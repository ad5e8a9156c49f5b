from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dashboard import charts
from dashboard.kpis.risk import department_risk, policy_hits, risky_agents
from dashboard.periods import FilterForm
from dashboard.views.access import executive_page


@executive_page
def risk(request: HttpRequest, filters: FilterForm) -> HttpResponse:
    user, period, departments = request.user, filters.get_period(), filters.department_ids()
    by_department = department_risk(user, period, departments)
    hits = policy_hits(user, period, departments)
    context = {
        "filters": filters,
        "period": period,
        "departments": by_department,
        "charts": [charts.risk_heatmap(by_department), charts.appetite_chart(by_department)],
        "policy_chart": charts.policy_chart(hits),
        "risks": risky_agents(user, period, departments, limit=10),
        "shadow_total": {
            key: sum(d.shadow[key] for d in by_department) for key in ("shadow_deny", "shadow_hold", "shadow_allow")
        },
    }
    return render(request, "dashboard/risk.html", context)
