from django.urls import path

from dashboard.api.views import InteractionsView, KpiView, LeagueView

urlpatterns = [
    path("kpis", KpiView.as_view(), name="kpis"),
    path("league", LeagueView.as_view(), name="league"),
    path("interactions", InteractionsView.as_view(), name="interactions"),
]
