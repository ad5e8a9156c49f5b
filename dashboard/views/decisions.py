"""The decision explorer, one decision's page, and overriding a denied or flagged decision."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from dashboard.decisions import (
    CursorError,
    ExplorerFilterSet,
    audit_trail,
    evaluated_policies,
    page_of,
    queued_entries,
    scoped_decisions,
)
from governance import overrides


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
    query = request.GET.copy()
    for name in ("older", "newer"):
        query.pop(name, None)
    context.update(
        page=page,
        query=query.urlencode(),
        searched=filters.text_search_window() if filters.form.cleaned_data.get("q") else None,
    )
    return render(request, "dashboard/decisions.html", context)


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
        "may_override": overrides.may_override(request.user, decision) and not hasattr(decision, "override"),
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
