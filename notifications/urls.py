from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.preferences, name="preferences"),
    path("test/", views.send_test, name="send-test"),
    path("approvals/<str:token>/", views.approval_link, name="approval-link"),
]
