from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from health import metrics
from health.probes import run_checks


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. It touches no dependency on purpose."""
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: every dependency answers; otherwise 503 naming the ones that do not."""
    checks = run_checks()
    failing = sorted(name for name, result in checks.items() if not result["ok"])
    body = {"status": "unavailable" if failing else "ok", "failing": failing, "checks": checks}
    return JsonResponse(body, status=503 if failing else 200)


@never_cache
@require_GET
def prometheus_metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus's text format, for a scraper holding METRICS_TOKEN; absent (404) when no token is configured."""
    if not settings.METRICS_TOKEN:
        raise Http404("Metrics are off: set METRICS_TOKEN to turn them on.")
    if not metrics.authorised(request.headers.get("Authorization", "")):
        detail = "Send the metrics token: Authorization: Bearer <METRICS_TOKEN>."
        response = JsonResponse({"detail": detail}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(metrics.exposition(), content_type=CONTENT_TYPE_PLAIN_0_0_4)
