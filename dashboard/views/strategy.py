from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dashboard import charts
from dashboard.glossary import TERMS
from dashboard.kpis.concentration import provider_concentration
from dashboard.kpis.routing_shift import RoutingShift, routing_shift
from dashboard.kpis.value import cost_and_value
from dashboard.periods import FilterForm
from dashboard.views.access import executive_page


@executive_page
def strategy(request: HttpRequest, filters: FilterForm) -> HttpResponse:
    user, period, departments = request.user, filters.get_period(), filters.department_ids()
    shares = provider_concentration(user, period, departments)
    threshold = settings.PROVIDER_CONCENTRATION_WARNING
    shift = routing_shift(user, departments)
    context = {
        "filters": filters,
        "period": period,
        "shift": shift,
        "weights": _weights(shift),
        "threshold": threshold,
        "concentrated": [s for s in shares if s.over_threshold],
        "money_terms": [TERMS[key] for key in ("spend", "cost", "value")],
        "currency": settings.ORG_CURRENCY,
        "charts": [
            charts.cost_value_chart(cost_and_value(user, period, departments, by="department"), "department"),
            charts.cost_value_chart(cost_and_value(user, period, departments, by="provider"), "provider"),
            charts.provider_chart(shares, threshold),
            charts.routing_chart(shift),
        ],
    }
    return render(request, "dashboard/strategy.html", context)


def _weights(shift: RoutingShift) -> list[tuple[str, int, int | None]]:
    """(priority, current weight, previous weight) for the four routing priorities."""
    if shift.current is None:
        return []
    axes = [
        ("Cost", "cost"),
        ("Risk", "risk"),
        ("Customer satisfaction", "customer_satisfaction"),
        ("Resilience", "resilience"),
    ]
    return [
        (label, getattr(shift.current, name), getattr(shift.previous, name) if shift.previous else None)
        for label, name in axes
    ]
