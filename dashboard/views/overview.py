from babel.numbers import get_currency_name
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from audit.chain import last_event_id
from dashboard import glossary
from dashboard.charts import decisions_chart, rates_chart
from dashboard.drilldown import inbox_url, tile_links
from dashboard.headline import headline, wait_words
from dashboard.kpis.approvals import approval_backlog
from dashboard.kpis.risk import department_risk, risky_agents
from dashboard.kpis.snapshot import departments_in_scope
from dashboard.kpis.tiles import kpis
from dashboard.kpis.trend import trend
from dashboard.overview_numbers import overview_numbers, recent_decisions
from dashboard.periods import FilterForm
from dashboard.views.access import executive_page


@executive_page
def overview(request: HttpRequest, filters: FilterForm) -> HttpResponse:
    stream_start = last_event_id()  # read before the numbers: the page resumes the stream from here
    user, period, departments, now = request.user, filters.get_period(), filters.department_ids(), timezone.now()
    series = trend(user, period, departments)
    tiles = kpis(user, period, departments)
    backlog = approval_backlog(user, departments)
    links = tile_links(period, departments_in_scope(user, departments), filters.query_string())
    context = {
        "filters": filters,
        "period": period,
        "headline": headline(tiles, department_risk(user, period, departments), backlog, period, now),
        "tiles": [(tile, links.get(tile.key)) for tile in tiles],
        "backlog": backlog,
        "backlog_all_url": inbox_url(departments),
        "backlog_rows": [(role, count, inbox_url(departments, role)) for role, count in backlog.by_role.items()],
        "oldest_wait": wait_words(backlog.oldest_wait(now)),
        "charts": [(draw(series, period), links["decisions"]) for draw in (rates_chart, decisions_chart)],
        "org_currency_name": get_currency_name(settings.ORG_CURRENCY, locale=settings.ORG_LOCALE),
        "words": {
            "verdicts": glossary.VERDICT_LABELS,
            "actions": glossary.action_descriptions(),
            "locale": settings.ORG_LOCALE.replace("_", "-"),
            "currency": settings.ORG_CURRENCY,
        },
        "risks": risky_agents(user, period, departments, limit=5),
        "recent": recent_decisions(user, departments),
        "stream": {"start": stream_start, "departments": departments_in_scope(user, departments)},
    }
    return render(request, "dashboard/overview.html", context)


@never_cache
@executive_page
def overview_numbers_json(request: HttpRequest, filters: FilterForm) -> JsonResponse:
    return JsonResponse(overview_numbers(request.user, filters.get_period(), filters.department_ids()))
