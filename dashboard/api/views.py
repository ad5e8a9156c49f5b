"""The executive overview's numbers over HTTP: the same function, filters and scope as the page."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dashboard import kpis
from dashboard.api.serializers import KpiSerializer
from dashboard.periods import PERIOD_CHOICES, FilterForm
from integrations.api.permissions import holds

FILTERS = [
    OpenApiParameter("period", str, enum=[key for key, _ in PERIOD_CHOICES], description="Default 24h."),
    OpenApiParameter("start", OpenApiTypes.DATE, description="First day (UTC) of a custom period."),
    OpenApiParameter("end", OpenApiTypes.DATE, description="Last day (UTC) of a custom period."),
    OpenApiParameter("department", int, many=True, description="Department ids; default every one in scope."),
]


class KpiView(APIView):
    """KPI tiles (with the previous period's figure) and trend series, as on the overview page."""

    permission_classes = [holds("governance.view_decision")]

    @extend_schema(parameters=FILTERS, responses=KpiSerializer)
    def get(self, request: Request) -> Response:
        form = FilterForm(request.query_params, user=request.user)
        if not form.is_valid():
            raise ValidationError(form.errors)
        period, departments = form.get_period(), form.department_ids()
        trend = kpis.trend(request.user, period, departments)
        body = {
            "period": {**vars(period), "label": period.label},
            "departments": departments,
            "tiles": [{**vars(tile), "change": tile.change} for tile in kpis.kpis(request.user, period, departments)],
            "trend": vars(trend),
        }
        return Response(KpiSerializer(body).data)
