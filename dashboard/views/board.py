from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dashboard import board as reports
from dashboard import charts
from dashboard.periods import FilterForm
from dashboard.views.access import executive_page


def _report(request: HttpRequest, filters: FilterForm) -> reports.BoardReport:
    return reports.board_report(request.user, filters.get_period(), filters.department_ids())


def _filename(report: reports.BoardReport, extension: str) -> str:
    return f"regent-board-{report.period.start:%Y%m%d}-{report.period.end:%Y%m%d}.{extension}"


@executive_page
def board(request: HttpRequest, filters: FilterForm) -> HttpResponse:
    report = _report(request, filters)
    context = {
        "filters": filters,
        "period": report.period,
        "report": report,
        "query": filters.query_string(),
        "charts": [
            charts.rates_chart(report.trend, report.period),
            charts.decisions_chart(report.trend, report.period),
            charts.appetite_chart(report.departments),
        ],
    }
    return render(request, "dashboard/board.html", context)


@executive_page
def board_pdf(request: HttpRequest, filters: FilterForm) -> HttpResponse:
    report = _report(request, filters)
    response = HttpResponse(reports.pdf_report(report), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{_filename(report, "pdf")}"'
    return response


@executive_page
def board_csv(request: HttpRequest, filters: FilterForm) -> HttpResponse:
    report = _report(request, filters)
    response = HttpResponse(reports.csv_report(report), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(report, "csv")}"'
    return response
