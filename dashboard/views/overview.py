from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from dashboard.live import overview_numbers


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboard/overview.html", {"numbers": overview_numbers(request.user)})


@never_cache
@login_required
def overview_numbers_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse(overview_numbers(request.user))
