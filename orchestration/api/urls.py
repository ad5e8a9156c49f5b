from django.urls import path

from orchestration.api.views import DelegateView

urlpatterns = [
    path("steps/<int:step_id>/delegate", DelegateView.as_view(), name="step-delegate"),
]
