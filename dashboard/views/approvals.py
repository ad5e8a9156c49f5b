"""The approvals inbox: requests waiting for the person, decided with a real form, updated live."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from audit.chain import last_event_id
from dashboard.decisions import evaluated_policies
from governance import approvals
from governance.models import Approval
from orchestration.scoping import scope_to_departments

INBOX_LIMIT = 200


class DecideForm(forms.Form):
    verdict = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    comment = forms.CharField(required=False, max_length=2000, strip=True)

    def clean(self) -> dict:
        cleaned = super().clean()
        rejecting = cleaned.get("verdict") == "reject"
        problem = rejecting and approvals.reason_problem(approve=False, comment=cleaned.get("comment", ""))
        if problem:
            self.add_error("comment", problem)
        return cleaned


def _inbox(request: HttpRequest) -> dict:
    pending, decides = approvals.inbox_for(request.user)
    listed = list(pending.select_related("decision__agent", "decision__department")[:INBOX_LIMIT])
    policies = evaluated_policies([a.decision for a in listed])
    items = [
        {
            "approval": approval,
            "decision": approval.decision,
            "asking": [p for p in policies[approval.decision_id] if p.asked_for_a_person],
        }
        for approval in listed
    ]
    return {"items": items, "decides": decides, "limited": len(listed) == INBOX_LIMIT}


@login_required
@permission_required("governance.view_approval", raise_exception=True)
def inbox(request: HttpRequest) -> HttpResponse:
    stream_start = last_event_id()  # read before the list: the page resumes the stream from here
    context = {**_inbox(request), "stream": {"start": stream_start}}
    return render(request, "dashboard/approvals.html", context)


@never_cache
@login_required
@permission_required("governance.view_approval", raise_exception=True)
def inbox_rows(request: HttpRequest) -> HttpResponse:
    """The list alone, which the open page fetches when the stream says a request came or went."""
    return render(request, "dashboard/includes/approval_list.html", _inbox(request))


@require_POST
@login_required
@permission_required("governance.view_approval", raise_exception=True)
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    approval = get_object_or_404(scope_to_departments(Approval.objects.all(), request.user), pk=pk)
    form = DecideForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, f"Request {approval.pk}: {error}")
        return redirect("dashboard:approvals")
    approve = form.cleaned_data["verdict"] == "approve"
    try:
        approvals.decide_approval(approval.pk, approve=approve, by=request.user, comment=form.cleaned_data["comment"])
    except approvals.ApprovalError as exc:
        messages.error(request, f"Request {approval.pk}: {exc}")
    else:
        messages.success(request, f"Request {approval.pk} {'approved' if approve else 'rejected'}.")
    return redirect("dashboard:approvals")
