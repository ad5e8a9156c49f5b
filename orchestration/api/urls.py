from django.urls import path
from rest_framework.routers import SimpleRouter

from orchestration.api import views

router = SimpleRouter(trailing_slash=False)
router.register("departments", views.DepartmentViewSet, basename="department")
router.register("capabilities", views.CapabilityViewSet, basename="capability")
router.register("providers", views.ModelProviderViewSet, basename="provider")
router.register("agents", views.AgentViewSet, basename="agent")
router.register("workflows", views.WorkflowTemplateViewSet, basename="workflow")
router.register("workflow-runs", views.WorkflowRunViewSet, basename="workflow-run")

urlpatterns = [
    path("steps/<int:step_id>/delegate", views.DelegateView.as_view(), name="step-delegate"),
    path("workflows/<slug:slug>/runs", views.StartRunView.as_view(), name="workflow-start-run"),
    path("strategy", views.StrategyView.as_view(), name="strategy"),
    *router.urls,
]
