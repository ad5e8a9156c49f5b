from django.urls import path

from alerting import views

app_name = "alerting"
urlpatterns = [
    path("alerts/", views.alerts_page, name="alerts"),
    path("alerts/sections/", views.alert_sections, name="alert-sections"),
]
