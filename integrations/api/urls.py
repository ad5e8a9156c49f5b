"""The API's root: every app's endpoints under /api/v1/, the OpenAPI schema, Swagger UI and Redoc."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from integrations.api import docs, views

router = SimpleRouter(trailing_slash=False)
router.register("tokens", views.PersonalTokenViewSet, basename="token")
router.register("webhooks", views.WebhookSubscriptionViewSet, basename="webhook")

urlpatterns = [
    path("schema", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs", docs.SwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc", docs.RedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("", include("governance.api.urls")),
    path("", include("orchestration.api.urls")),
    path("", include("workflows.api.urls")),
    path("", include("dashboard.api.urls")),
    *router.urls,
]
