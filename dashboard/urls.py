from django.urls import path

from dashboard.views import overview

app_name = "dashboard"

urlpatterns = [
    path("", overview.overview, name="overview"),
    path("live/overview.json", overview.overview_numbers_json, name="overview-numbers"),
]
