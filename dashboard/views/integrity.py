"""The auditor's integrity page: verify the audit chain in the background, watch it, see the signed head."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from audit import checkpoints, verification
from audit.models import VerificationRun
from dashboard import integrity
from orchestration.roles import sees_whole_organisation

may_view = permission_required("audit.view_auditevent", raise_exception=True)


def _may_start(request: HttpRequest) -> None:
    if not integrity.may_start(request.user):
        raise PermissionDenied("Only Auditors start a verification or sign a checkpoint.")


@login_required
@may_view
@require_GET
def integrity_page(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboard/integrity.html", integrity.page_context(request.user))


@login_required
@may_view
@require_GET
def verification_state(request: HttpRequest, run_id: int) -> JsonResponse:
    """What the page polls while a verification runs."""
    run = get_object_or_404(VerificationRun.objects.select_related("started_by"), pk=run_id)
    return JsonResponse(integrity.run_state(run, sees_whole_organisation(request.user)))


@login_required
@require_POST
def start_verification(request: HttpRequest) -> HttpResponse:
    _may_start(request)
    mode = request.POST.get("mode", VerificationRun.Mode.INCREMENTAL)
    if mode not in VerificationRun.Mode.values:
        return HttpResponseBadRequest("Choose what to check: incremental or full.")
    verification.start(request.user, mode)
    return redirect("dashboard:integrity")


@login_required
@require_POST
def sign_checkpoint(request: HttpRequest) -> HttpResponse:
    _may_start(request)
    checkpoint = checkpoints.take()
    held = ", ".join(checkpoint.witnessed_by) or "no witness"
    messages.success(request, f"Signed a checkpoint of {checkpoint.size:,} events, now held by {held}.")
    for witness, error in checkpoint.witness_errors.items():
        messages.warning(request, f"Witness {witness} did not take it: {error}")
    return redirect("dashboard:integrity")


@login_required
@may_view
@require_GET
def checkpoint_file(request: HttpRequest) -> HttpResponse:
    """The latest signed checkpoint as JSON, to check offline; it states the organisation's event count."""
    if not sees_whole_organisation(request.user):
        raise PermissionDenied("The checkpoint states the whole organisation's event count.")
    checkpoint = checkpoints.latest()
    if checkpoint is None:
        return HttpResponse("No checkpoint has been signed yet.", status=404, content_type="text/plain")
    response = JsonResponse(checkpoints.as_document(checkpoint), json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="regent-checkpoint-{checkpoint.size}.json"'
    return response
