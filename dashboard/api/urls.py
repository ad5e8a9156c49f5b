from django.urls import path

from dashboard.api.views import KpiView

urlpatterns = [path("kpis", KpiView.as_view(), name="kpis")]
