from django.urls import path

from dashboard.api.views import ControlsView, InteractionsView, KpiView, LeagueView

urlpatterns = [
    path("kpis", KpiView.as_view(), name="kpis"),
    path("league", LeagueView.as_view(), name="league"),
    path("interactions", InteractionsView.as_view(), name="interactions"),
    path("controls/<slug:framework>", ControlsView.as_view(), name="controls"),
]
