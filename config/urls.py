from django.contrib import admin
from django.urls import include, path

from dashboard.views import assets, health

admin.site.site_header = "Regent administration"
admin.site.site_title = "Regent"

urlpatterns = [
    path("favicon.ico", assets.favicon),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("integrations.api.urls")),
    path("", include("dashboard.urls")),
]
