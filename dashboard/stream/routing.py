from django.urls import path

from dashboard.stream.consumers import DecisionStreamConsumer

websocket_urlpatterns = [
    path("ws/decisions/", DecisionStreamConsumer.as_asgi()),
]
