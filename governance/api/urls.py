from django.urls import path

from governance.api.views import EvaluateView

urlpatterns = [
    path("decisions/evaluate", EvaluateView.as_view(), name="decision-evaluate"),
]
