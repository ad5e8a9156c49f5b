"""The audit log page: read-only, for the people who may read the audit log (Supervisors their departments')."""

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dashboard.audit_log import AuditLogFilterForm, audit_page
from dashboard.views.access import executive_page


@login_required
@permission_required("audit.view_auditevent", raise_exception=True)
@executive_page(form=AuditLogFilterForm)
def audit_log(request: HttpRequest, filters: AuditLogFilterForm) -> HttpResponse:
    page = audit_page(request.user, filters)
    context = {
        "filters": filters,
        "period": filters.get_period(),
        "page": page,
        "newest_query": filters.query_string(),
        "older_query": filters.query_string(before=page.next_before) if page.next_before else "",
    }
    return render(request, "dashboard/audit_log.html", context)
