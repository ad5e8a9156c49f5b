"""The approvals inbox: the requests a person may see, filtered, sorted and paged by the URL, decided one by one or
several at once through `governance.approvals`, and updated live.

Deciding answers JSON to the page's script (the message goes next to the control that was used) and, without
JavaScript, redirects back to the same filtered page with the message placed by the card or the bulk form.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from audit.chain import last_event_id
from dashboard.inbox import FILTER_NAMES, InboxFilterForm, read_inbox
from governance import approvals
from governance.models import Approval
from orchestration.scoping import scope_to_departments

NOTES = "inbox_notes"  # session key: refusals to show by their card (or the bulk form) on the next page
BULK = "bulk"


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


class BulkDecideForm(DecideForm):
    approval = forms.TypedMultipleChoiceField(coerce=int, empty_value=None)

    def __init__(self, data: QueryDict) -> None:
        super().__init__(data)
        chosen = data.getlist("approval")[: approvals.BULK_LIMIT + 1]
        self.fields["approval"].choices = [(value, value) for value in chosen if value.isdigit()]
        self.fields["approval"].error_messages["required"] = "Select the requests to decide."

    def clean_approval(self) -> list[int]:
        chosen = self.cleaned_data["approval"]
        if len(chosen) > approvals.BULK_LIMIT:
            raise forms.ValidationError(f"Decide at most {approvals.BULK_LIMIT} requests at once.")
        return chosen


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _first_error(form: forms.Form) -> tuple[str, str]:
    """The field a refusal is about (the reason box, else the buttons) and its message."""
    for name in ("comment", "approval", "verdict", "__all__"):
        if name in form.errors:
            return ("comment" if name == "comment" else "verdict"), form.errors[name][0]
    return "verdict", "The request could not be read."


def _back_to_inbox(request: HttpRequest, anchor: str) -> HttpResponse:
    """The page the person decided from: the same filters and page, at the card or form they used."""
    sent = QueryDict(request.POST.get("query", ""))
    query = QueryDict(mutable=True)
    for name in (*FILTER_NAMES, "page"):
        if sent.get(name):
            query[name] = sent[name]
    suffix = f"?{query.urlencode()}" if query else ""
    return redirect(f"{reverse('dashboard:approvals')}{suffix}#{anchor}")


def _keep_note(request: HttpRequest, key: str, field: str, text: str, comment: str) -> None:
    notes = request.session.get(NOTES, {})
    notes[key] = {"field": field, "text": text, "comment": comment}
    request.session[NOTES] = notes


def _render_inbox(request: HttpRequest, template: str, notes: dict | None = None, **extra) -> HttpResponse:
    form = InboxFilterForm(request.GET, user=request.user)
    if not form.is_valid():
        return render(request, template, {"form": form, "inbox": None, **extra}, status=400)
    inbox = read_inbox(request.user, form.cleaned_data, form.cleaned_data.get("page"))
    notes = dict(notes or {})
    for item in inbox.items:
        item.note = notes.pop(str(item.approval.pk), {})
    bulk_note = notes.pop(BULK, {})
    for pk, note in notes.items():  # the card is not on this page any more: say it at the top
        messages.error(request, f"Request {pk}: {note['text']}")
    return render(request, template, {"form": form, "inbox": inbox, "bulk_note": bulk_note, **extra})


@login_required
@permission_required("governance.view_approval", raise_exception=True)
def inbox(request: HttpRequest) -> HttpResponse:
    stream_start = last_event_id()  # read before the list: the page resumes the stream from here
    notes = request.session.pop(NOTES, {})
    return _render_inbox(request, "dashboard/approvals.html", notes, stream={"start": stream_start})


@never_cache
@login_required
@permission_required("governance.view_approval", raise_exception=True)
def inbox_rows(request: HttpRequest) -> HttpResponse:
    """The list alone, which the open page fetches when the stream says a request came or went.

    `shown` names the cards the page holds: the answer says which of them still wait (in any page), so a card
    that only moved to another page is not announced as decided."""
    shown = [int(value) for value in request.GET.get("shown", "").split(",") if value.isdigit()][:200]
    waiting = approvals.pending_in_scope(request.user).filter(pk__in=shown).values_list("pk", flat=True)
    still_waiting = ",".join(str(pk) for pk in waiting)
    return _render_inbox(request, "dashboard/includes/approval_list.html", still_waiting=still_waiting, rows=True)


@require_POST
@login_required
@permission_required("governance.view_approval", raise_exception=True)
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    approval = get_object_or_404(scope_to_departments(Approval.objects.all(), request.user), pk=pk)
    form = DecideForm(request.POST)
    comment = request.POST.get("comment", "")
    on_decision_page = request.POST.get("back") == "decision"  # where a message's link lands (notifications)
    decision_page = f"{reverse('dashboard:decision', args=[approval.decision_id])}#approval-heading"
    problem = None
    if not form.is_valid():
        field, text = _first_error(form)
        problem = (field, text, 400)
    else:
        approve = form.cleaned_data["verdict"] == "approve"
        try:
            approvals.decide_approval(
                approval.pk, approve=approve, by=request.user, comment=form.cleaned_data["comment"]
            )
        except approvals.ApprovalError as exc:
            problem = ("verdict", str(exc), exc.status_code)
    if problem and on_decision_page and not _wants_json(request):
        messages.error(request, problem[1])
        return redirect(decision_page)
    if problem:
        return _refused(request, approval.pk, problem[0], problem[1], comment, status=problem[2])
    done = f"Request {approval.pk} {'approved' if approve else 'rejected'}."
    if _wants_json(request):
        return JsonResponse({"approval": approval.pk, "decided": True, "message": done})
    messages.success(request, done)
    return redirect(decision_page) if on_decision_page else _back_to_inbox(request, f"approval-{approval.pk}")


def _refused(request: HttpRequest, pk: int, field: str, text: str, comment: str, *, status: int) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"approval": pk, "decided": False, "field": field, "message": text}, status=status)
    _keep_note(request, str(pk), field, text, comment)
    return _back_to_inbox(request, f"approval-{pk}")


@require_POST
@login_required
@permission_required("governance.view_approval", raise_exception=True)
def decide_selected(request: HttpRequest) -> HttpResponse:
    """Approve or reject the ticked requests with one reason; each is decided, or refused, on its own."""
    form = BulkDecideForm(request.POST)
    comment = request.POST.get("comment", "")
    if not form.is_valid():
        field, text = _first_error(form)
        if _wants_json(request):
            return JsonResponse({"decided": False, "field": field, "message": text}, status=400)
        _keep_note(request, BULK, field, text, comment)
        return _back_to_inbox(request, "bulk")
    approve = form.cleaned_data["verdict"] == "approve"
    rulings = approvals.decide_each(
        form.cleaned_data["approval"], approve=approve, by=request.user, comment=form.cleaned_data["comment"]
    )
    decided = sum(r.decided for r in rulings)
    summary = f"{decided} of {len(rulings)} {'approved' if approve else 'rejected'}."
    if decided < len(rulings):
        summary += " The others were refused: the reason is by each request."
    if _wants_json(request):
        results = [{"approval": r.approval_id, "decided": r.decided, "message": r.message} for r in rulings]
        return JsonResponse({"summary": summary, "results": results})
    for ruling in rulings:
        if not ruling.decided:
            _keep_note(request, str(ruling.approval_id), "verdict", ruling.message, "")
    (messages.success if decided == len(rulings) else messages.warning)(request, summary)
    return _back_to_inbox(request, "bulk")
