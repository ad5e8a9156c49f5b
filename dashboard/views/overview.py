from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from dashboard.live import overview_numbers
from governance.audit import last_event_id


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    stream_start = last_event_id()  # read before the numbers: the page resumes the stream from here
    numbers = overview_numbers(request.user)
    return render(request, "dashboard/overview.html", {"numbers": numbers, "stream_start": stream_start})


@never_cache
@login_required
def overview_numbers_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse(overview_numbers(request.user))
