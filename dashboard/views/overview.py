from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from audit.chain import last_event_id
from dashboard import charts
from dashboard.kpis.risk import risky_agents
from dashboard.kpis.snapshot import departments_in_scope
from dashboard.kpis.tiles import kpis
from dashboard.kpis.trend import trend
from dashboard.overview_numbers import overview_numbers, recent_decisions
from dashboard.periods import FilterForm
from dashboard.views.access import executive_page


@executive_page
def overview(request: HttpRequest, filters: FilterForm) -> HttpResponse:
    stream_start = last_event_id()  # read before the numbers: the page resumes the stream from here
    user, period, departments = request.user, filters.get_period(), filters.department_ids()
    series = trend(user, period, departments)
    context = {
        "filters": filters,
        "period": period,
        "tiles": kpis(user, period, departments),
        "charts": [charts.rates_chart(series, period), charts.decisions_chart(series, period)],
        "risks": risky_agents(user, period, departments, limit=5),
        "recent": recent_decisions(user, departments),
        "stream": {"start": stream_start, "departments": departments_in_scope(user, departments)},
    }
    return render(request, "dashboard/overview.html", context)


@never_cache
@executive_page
def overview_numbers_json(request: HttpRequest, filters: FilterForm) -> JsonResponse:
    return JsonResponse(overview_numbers(request.user, filters.get_period(), filters.department_ids()))
