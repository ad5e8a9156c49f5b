from django.urls import path

from orchestration.api.views import DelegateView, StartRunView

urlpatterns = [
    path("steps/<int:step_id>/delegate", DelegateView.as_view(), name="step-delegate"),
    path("workflows/<slug:slug>/runs", StartRunView.as_view(), name="workflow-start-run"),
]
