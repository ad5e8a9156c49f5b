"""The decision explorer, one decision's page, and overriding a denied or flagged decision."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from dashboard.decision_export import EXPORT_MAX_ROWS, async_lines, count_matches, csv_lines
from dashboard.decisions import (
    CursorError,
    ExplorerFilterSet,
    audit_trail,
    evaluated_policies,
    page_of,
    queued_entries,
    scoped_decisions,
)
from governance import approvals, overrides
from traces.reasoning import steps_around


@login_required
@permission_required("governance.view_decision", raise_exception=True)
def explorer(request: HttpRequest) -> HttpResponse:
    filters = ExplorerFilterSet(request.GET, queryset=scoped_decisions(request.user), user=request.user)
    context = {"filters": filters, "page": None, "cursor_error": ""}
    if not filters.is_valid():
        return render(request, "dashboard/decisions.html", context, status=400)
    try:
        page = page_of(filters.qs, older=request.GET.get("older", ""), newer=request.GET.get("newer", ""))
    except CursorError as exc:
        return render(request, "dashboard/decisions.html", {**context, "cursor_error": str(exc)}, status=400)
    context.update(
        page=page,
        query=filters_only(request),
        matches=count_matches(filters.qs, text_search=bool(filters.form.cleaned_data.get("q"))),
        filters_in_use=sum(1 for name in filters.form.fields if any(request.GET.getlist(name))),
        export_max_rows=f"{EXPORT_MAX_ROWS:,}",
        searched=filters.text_search_window() if filters.form.cleaned_data.get("q") else None,
    )
    return render(request, "dashboard/decisions.html", context)


@login_required
@permission_required("governance.view_decision", raise_exception=True)
def export(request: HttpRequest) -> HttpResponse:
    """The filtered decisions as CSV, streamed; the same filters and scope as the explorer page."""
    filters = ExplorerFilterSet(request.GET, queryset=scoped_decisions(request.user), user=request.user)
    if not filters.is_valid():
        return render(request, "dashboard/decisions.html", {"filters": filters, "page": None}, status=400)
    lines = csv_lines(filters.qs)
    served_async = isinstance(request, ASGIRequest)  # each server streams only its own kind of iterator
    response = StreamingHttpResponse(
        async_lines(lines) if served_async else lines, content_type="text/csv; charset=utf-8"
    )
    name = f"regent-decisions-{timezone.now():%Y-%m-%d-%H%M}-UTC.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def filters_only(request: HttpRequest) -> str:
    """The page's query without its cursor: what the export link and the count repeat."""
    query = request.GET.copy()
    for name in ("older", "newer"):
        query.pop(name, None)
    return query.urlencode()


@login_required
@permission_required("governance.view_decision", raise_exception=True)
def decision(request: HttpRequest, pk: int) -> HttpResponse:
    decision = get_object_or_404(
        scoped_decisions(request.user).select_related("outcome", "approval__decided_by", "override__by"), pk=pk
    )
    context = {
        "decision": decision,
        "context_json": json.dumps(decision.context, indent=2, sort_keys=True, ensure_ascii=False),
        "policies": evaluated_policies([decision])[decision.pk],
        "trail": audit_trail(decision),
        "queued": queued_entries(decision),
        "reasoning": steps_around(decision),
        "may_override": overrides.may_override(request.user, decision) and not hasattr(decision, "override"),
        "may_decide": hasattr(decision, "approval") and approvals.may_decide(request.user, decision.approval),
    }
    return render(request, "dashboard/decision.html", context)


@require_POST
@login_required
@permission_required("governance.view_decision", raise_exception=True)
def override(request: HttpRequest, pk: int) -> HttpResponse:
    decision = get_object_or_404(scoped_decisions(request.user), pk=pk)
    try:  # the reason is checked where the rule lives, in governance.overrides
        overrides.override_decision(decision.pk, by=request.user, reason=request.POST.get("reason", ""))
    except overrides.OverrideError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Override recorded. Nothing was executed: the agent must ask again.")
    return redirect("dashboard:decision", pk=decision.pk)
