from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string

from dashboard import board as reports
from dashboard.board_charts import PHONE_WIDTH, pack_charts
from dashboard.board_csv import csv_report
from dashboard.board_pdf import render_pdf
from dashboard.board_summary import executive_summary
from dashboard.periods import BoardFilterForm, FilterForm
from dashboard.views.access import executive_page


def _context(request: HttpRequest, filters: FilterForm) -> dict:
    report = reports.board_report(request.user, filters.get_period(), filters.department_ids())
    return {
        "filters": filters,
        "period": report.period,
        "report": report,
        "query": filters.query_string(),
        "summary": executive_summary(report),
        "charts": pack_charts(report),
        "phone_charts": pack_charts(report, PHONE_WIDTH),  # shown instead on a phone's screen, never printed
        "currency": settings.ORG_CURRENCY,
        "threshold": settings.PROVIDER_CONCENTRATION_WARNING,
    }


def _attachment(response: HttpResponse, report: reports.BoardReport, extension: str) -> HttpResponse:
    """`regent-board-20261126-20261202.pdf`: the period's first and last day, as the cover says."""
    period = report.period
    name = f"regent-board-{period.start:%Y%m%d}-{period.last_day:%Y%m%d}.{extension}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@executive_page(form=BoardFilterForm)
def board(request: HttpRequest, filters: FilterForm) -> HttpResponse:
    return render(request, "dashboard/board.html", _context(request, filters))


@executive_page(form=BoardFilterForm)
def board_pdf(request: HttpRequest, filters: FilterForm) -> HttpResponse:
    context = _context(request, filters)
    html = render_to_string("dashboard/board_print.html", context, request=request)
    return _attachment(HttpResponse(render_pdf(html), content_type="application/pdf"), context["report"], "pdf")


@executive_page(form=BoardFilterForm)
def board_csv(request: HttpRequest, filters: FilterForm) -> HttpResponse:
    report = reports.board_report(request.user, filters.get_period(), filters.department_ids())
    response = HttpResponse(csv_report(report), content_type="text/csv; charset=utf-8")
    return _attachment(response, report, "csv")
