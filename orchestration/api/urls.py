from rest_framework.routers import SimpleRouter

from orchestration.api import views

router = SimpleRouter(trailing_slash=False)
router.register("departments", views.DepartmentViewSet, basename="department")
router.register("capabilities", views.CapabilityViewSet, basename="capability")
router.register("providers", views.ModelProviderViewSet, basename="provider")
router.register("agents", views.AgentViewSet, basename="agent")

urlpatterns = router.urls
