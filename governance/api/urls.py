from django.urls import path
from rest_framework.routers import SimpleRouter

from governance.api import views

router = SimpleRouter(trailing_slash=False)
router.register("decisions", views.DecisionViewSet, basename="decision")
router.register("approvals", views.ApprovalViewSet, basename="approval")
router.register("policies", views.PolicyViewSet, basename="policy")
router.register("replays", views.ReplayRunViewSet, basename="replay")
router.register("audit-events", views.AuditEventViewSet, basename="audit-event")

urlpatterns = [
    path("decisions/evaluate", views.EvaluateView.as_view(), name="decision-evaluate"),
    path("outcomes", views.OutcomeView.as_view(), name="outcome-report"),
    path("events", views.IngestView.as_view(), name="events-ingest"),
    *router.urls,
]
