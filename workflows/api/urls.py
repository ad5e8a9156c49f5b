from django.urls import path
from rest_framework.routers import SimpleRouter

from workflows.api import views

router = SimpleRouter(trailing_slash=False)
router.register("workflows", views.WorkflowTemplateViewSet, basename="workflow")
router.register("workflow-runs", views.WorkflowRunViewSet, basename="workflow-run")

urlpatterns = [
    path("steps/<int:step_id>/delegate", views.DelegateView.as_view(), name="step-delegate"),
    path("workflows/<slug:slug>/runs", views.StartRunView.as_view(), name="workflow-start-run"),
    path("strategy", views.StrategyView.as_view(), name="strategy"),
    *router.urls,
]
