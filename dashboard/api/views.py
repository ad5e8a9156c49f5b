"""The dashboards' numbers over HTTP: the same functions, filters and scope as the pages."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dashboard import league
from dashboard.api.serializers import ControlsSerializer, InteractionsSerializer, KpiSerializer, LeagueSerializer
from dashboard.compliance.export import as_document
from dashboard.compliance.library import library
from dashboard.compliance.report import framework_report
from dashboard.interactions import interaction_graph
from dashboard.kpis.tiles import kpis
from dashboard.kpis.trend import trend
from dashboard.kpis.violations import VIOLATION_DEFINITION
from dashboard.periods import PERIOD_CHOICES, FilterForm
from restapi.permissions import holds

FILTERS = [
    OpenApiParameter("period", str, enum=[key for key, _ in PERIOD_CHOICES], description="Default 24h."),
    OpenApiParameter("start", OpenApiTypes.DATE, description="First day (UTC) of a custom period."),
    OpenApiParameter("end", OpenApiTypes.DATE, description="Last day (UTC) of a custom period."),
    OpenApiParameter("department", int, many=True, description="Department ids; default every one in scope."),
]


def _filters(request: Request, form_class: type[FilterForm] = FilterForm) -> FilterForm:
    form = form_class(request.query_params, user=request.user)
    if not form.is_valid():
        raise ValidationError(form.errors)
    return form


class KpiView(APIView):
    """KPI tiles (with the previous period's figure) and trend series, as on the overview page."""

    permission_classes = [holds("governance.view_decision")]

    @extend_schema(parameters=FILTERS, responses=KpiSerializer)
    def get(self, request: Request) -> Response:
        form = _filters(request)
        period, departments = form.get_period(), form.department_ids()
        series = trend(request.user, period, departments)
        body = {
            "period": {**vars(period), "label": period.label},
            "departments": departments,
            "tiles": [{**vars(tile), "change": tile.change} for tile in kpis(request.user, period, departments)],
            "trend": vars(series),
        }
        return Response(KpiSerializer(body).data)


class LeagueView(APIView):
    """The agents' league table, as on the Agents page: every agent in scope with its figures for the period."""

    permission_classes = [holds("orchestration.view_agent")]

    @extend_schema(
        parameters=[*FILTERS, OpenApiParameter("sort", str, description="A column, '-' first for descending.")],
        responses=LeagueSerializer,
    )
    def get(self, request: Request) -> Response:
        form = _filters(request, league.LeagueFilterForm)
        period, sort = form.get_period(), form.cleaned_data.get("sort") or league.DEFAULT_SORT
        body = {
            "period": {**vars(period), "label": period.label},
            "sort": sort,
            "violation_definition": VIOLATION_DEFINITION,
            "high_risk_definition": league.HIGH_RISK_DEFINITION,
            "rows": league.league(request.user, period, form.department_ids(), sort),
        }
        return Response(LeagueSerializer(body).data)


class InteractionsView(APIView):
    """Who delegated to whom and who worked the same workflow runs, as on the Interactions page."""

    permission_classes = [holds("orchestration.view_agent")]

    @extend_schema(parameters=FILTERS, responses=InteractionsSerializer)
    def get(self, request: Request) -> Response:
        form = _filters(request)
        period = form.get_period()
        graph = interaction_graph(request.user, period, form.department_ids())
        body = {"period": {**vars(period), "label": period.label}, **vars(graph)}
        return Response(InteractionsSerializer(body).data)


class ControlsView(APIView):
    """A framework's controls, each with the Regent feature serving it and the evidence found in the period, in the
    caller's scope (a Supervisor's departments only): the Controls and evidence page's content."""

    permission_classes = [holds("dashboard.view_controls")]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "framework",
                str,
                OpenApiParameter.PATH,
                enum=[f.slug for f in library().frameworks],
                description="The framework, as the control library names it.",
            ),
            *FILTERS,
        ],
        responses=ControlsSerializer,
    )
    def get(self, request: Request, framework: str) -> Response:
        found = library().framework(framework)
        if found is None:
            raise NotFound(f"No framework {framework!r}: one of {', '.join(f.slug for f in library().frameworks)}.")
        form = _filters(request)
        report = framework_report(request.user, found, form.get_period(), form.department_ids())
        document = as_document(report, request.build_absolute_uri("/").rstrip("/"))
        return Response(ControlsSerializer(document).data)
