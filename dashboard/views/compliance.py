"""Controls and evidence: one page per framework, its CSV, and for Auditors a signed ZIP with the evidence pack.

`dashboard.view_controls` (Auditors, Executives, Supervisors) opens them; a Supervisor's evidence is their
departments'. The ZIP adds the period's evidence pack, the whole chain's events, so it needs
`audit.export_evidence` (Auditors).
"""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from dashboard.compliance import export
from dashboard.compliance.library import Framework, library
from dashboard.compliance.report import FrameworkReport, framework_report
from dashboard.periods import FilterForm
from dashboard.views.access import executive_page

MAY_VIEW = "dashboard.view_controls"


def _may_view(request: HttpRequest) -> None:
    if not request.user.has_perm(MAY_VIEW):
        raise PermissionDenied("Controls and evidence are for Auditors, Executives and Supervisors.")


def controls_page(view: Callable[[HttpRequest, FilterForm, Framework], HttpResponse]):
    """Refuse people without the permission (403) before reading the filter; an unknown framework is a 404."""

    @executive_page
    @wraps(view)
    def checked(request: HttpRequest, filters: FilterForm, framework: str) -> HttpResponse:
        found = library().framework(framework)
        if found is None:
            raise Http404("No such framework in the control library.")
        return view(request, filters, found)

    @wraps(view)
    def wrapper(request: HttpRequest, framework: str) -> HttpResponse:
        if request.user.is_authenticated:
            _may_view(request)
        return checked(request, framework)

    return wrapper


def _report(request: HttpRequest, filters: FilterForm, framework: Framework) -> FrameworkReport:
    return framework_report(request.user, framework, filters.get_period(), filters.department_ids())


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _attachment(response: HttpResponse, report: FrameworkReport, extension: str) -> HttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{export.file_stem(report)}.{extension}"'
    return response


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """The first framework, with the filter the link carried."""
    _may_view(request)
    target = reverse("dashboard:controls", args=[library().frameworks[0].slug])
    return redirect(f"{target}?{request.GET.urlencode()}" if request.GET else target)


@controls_page
def framework_page(request: HttpRequest, filters: FilterForm, framework: Framework) -> HttpResponse:
    context = {
        "filters": filters,
        "query": filters.query_string(),
        "frameworks": library().frameworks,
        "report": _report(request, filters, framework),
    }
    return render(request, "dashboard/compliance.html", context)


@controls_page
def framework_csv(request: HttpRequest, filters: FilterForm, framework: Framework) -> HttpResponse:
    report = _report(request, filters, framework)
    response = HttpResponse(export.csv_text(report, _base_url(request)), content_type="text/csv; charset=utf-8")
    return _attachment(response, report, "csv")


@controls_page
def framework_bundle(request: HttpRequest, filters: FilterForm, framework: Framework) -> HttpResponse:
    refusal = export.bundle_refusal(request.user)
    if refusal:
        raise PermissionDenied(refusal)
    report = _report(request, filters, framework)
    name = f"{export.file_stem(report)}.zip"
    return FileResponse(export.bundle_file(report, _base_url(request)), as_attachment=True, filename=name)
