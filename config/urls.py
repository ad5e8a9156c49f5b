from django.contrib import admin
from django.urls import include, path

from accounts.views import LoginView
from dashboard.views import assets
from health import views
from traces.views import TraceExportView

admin.site.site_header = "Regent administration"
admin.site.site_title = "Regent"

urlpatterns = [
    path("favicon.ico", assets.favicon),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", views.prometheus_metrics, name="metrics"),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/login/", LoginView.as_view()),  # one login page, throttled and single sign-on aware
    path("admin/", admin.site.urls),
    path("api/v1/", include("integrations.api.urls")),
    path("notifications/", include("notifications.urls")),
    path("api/v1/", include("alerting.api.urls")),
    path("", include("alerting.urls")),
    path("v1/traces", TraceExportView.as_view(), name="otlp-traces"),  # OTLP/HTTP's own path, where exporters post
    path("", include("dashboard.urls")),
]
