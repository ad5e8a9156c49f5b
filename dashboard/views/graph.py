from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dashboard import charts
from dashboard.interactions import MAX_EDGES, interaction_graph
from dashboard.periods import FilterForm
from dashboard.views.access import executive_page


@executive_page
def interactions(request: HttpRequest, filters: FilterForm) -> HttpResponse:
    period = filters.get_period()
    graph = interaction_graph(request.user, period, filters.department_ids())
    context = {
        "filters": filters,
        "period": period,
        "graph": graph,
        "chart": charts.interaction_chart(graph),
        "max_edges": MAX_EDGES,
    }
    return render(request, "dashboard/interactions.html", context)
