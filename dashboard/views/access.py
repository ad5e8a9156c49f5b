"""What every executive page checks first: a signed-in person with a role, and a valid filter."""

from collections.abc import Callable
from functools import partial, wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dashboard.periods import FilterForm
from orchestration.roles import roles_of

ExecutiveView = Callable[..., HttpResponse]  # (request, filters, *URL arguments)


def executive_page(view: ExecutiveView | None = None, *, form: type[FilterForm] = FilterForm):
    """Refuse people without a role (403); answer a bad filter with 400 and the form's messages.

    `@executive_page` reads the period and departments; `@executive_page(form=…)` a form that adds to them.
    """
    if view is None:
        return partial(executive_page, form=form)

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not (request.user.is_superuser or roles_of(request.user)):
            raise PermissionDenied("You hold no role in Regent.")
        filters = form(request.GET, user=request.user)
        if not filters.is_valid():
            return render(request, "dashboard/bad_filter.html", {"filters": filters}, status=400)
        return view(request, filters, *args, **kwargs)

    return wrapper
