from rest_framework.routers import SimpleRouter

from alerting.api import views

router = SimpleRouter(trailing_slash=False)
router.register("alert-rules", views.AlertRuleViewSet, basename="alert-rule")
router.register("alerts", views.AlertViewSet, basename="alert")

urlpatterns = router.urls
