"""The board report for a period: one set of numbers, shown as a printable page, a PDF and a CSV.

The PDF is drawn with reportlab (no browser on the server); its charts are reportlab's own, from
the same aggregated series the page's Plotly charts use.
"""

import csv
import datetime as dt
import io
from dataclasses import dataclass

from django.utils import timezone
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from audit.models import AuditEvent
from dashboard.kpis.approvals import open_approvals
from dashboard.kpis.risk import AgentRisk, DepartmentRisk, PolicyHits, department_risk, policy_hits, risky_agents
from dashboard.kpis.snapshot import departments_in_scope
from dashboard.kpis.tiles import Tile, kpis
from dashboard.kpis.trend import Trend, trend
from dashboard.periods import Period
from governance.models import Approval
from orchestration.models import Department

INCIDENT_KINDS = ("agent.status_changed", "department.status_changed")
INCIDENT_LIMIT = 20


@dataclass(frozen=True)
class Incident:
    at: dt.datetime | None
    what: str


@dataclass(frozen=True)
class BoardReport:
    period: Period
    scope_label: str
    generated_at: dt.datetime
    tiles: list[Tile]
    trend: Trend
    departments: list[DepartmentRisk]
    risks: list[AgentRisk]
    policies: list[PolicyHits]
    incidents: list[Incident]
    approvals: list[Approval]


def board_report(viewer, period: Period, departments: list[int] | None = None) -> BoardReport:
    scope = departments_in_scope(viewer, departments)
    by_department = department_risk(viewer, period, departments)
    names = Department.objects.filter(pk__in=scope).values_list("name", flat=True) if scope is not None else []
    return BoardReport(
        period=period,
        scope_label=", ".join(names) if scope is not None else "All departments",
        generated_at=timezone.now(),
        tiles=kpis(viewer, period, departments),
        trend=trend(viewer, period, departments),
        departments=by_department,
        risks=risky_agents(viewer, period, departments, limit=5),
        policies=policy_hits(viewer, period, departments, limit=5),
        incidents=_incidents(period, scope, by_department),
        approvals=open_approvals(viewer, departments),
    )


def _incidents(period: Period, scope: list[int] | None, departments: list[DepartmentRisk]) -> list[Incident]:
    """Departments over their risk appetite, and every pause or kill in the period (from the audit log)."""
    incidents = [
        Incident(None, f"{d.department}: average risk {d.average_risk} above its appetite of {d.appetite}")
        for d in departments
        if d.over_appetite
    ]
    events = AuditEvent.objects.filter(
        kind__in=INCIDENT_KINDS, occurred_at__gte=period.start, occurred_at__lt=period.end
    ).order_by("-occurred_at")
    if scope is not None:
        events = events.filter(department_id__in=scope)
    for event in events[:INCIDENT_LIMIT]:
        status = (event.after or {}).get("status", "changed")
        subject = event.subject_type.capitalize()
        what = f"{subject} {event.subject_id} set to {status} by {event.actor_label}"
        incidents.append(Incident(event.occurred_at, what))
    return incidents


def csv_report(report: BoardReport) -> str:
    """Sections of rows a spreadsheet opens: figures, per-bucket trend, departments, risks, approvals."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Regent board report", report.period.label, report.scope_label])
    writer.writerow([])
    writer.writerow(["Figure", "Value", "Previous period", "Change"])
    for tile in report.tiles:
        writer.writerow([tile.label, _raw(tile.value), _raw(tile.previous), tile.change_display])
    writer.writerow([])
    writer.writerow(["Bucket (UTC)", "Decisions", *report.trend.rates])
    for i, bucket in enumerate(report.trend.buckets):
        rates = [_raw(values[i]) for values in report.trend.rates.values()]
        writer.writerow([bucket.isoformat(), report.trend.decisions[i], *rates])
    writer.writerow([])
    writer.writerow(["Department", "Decisions", "Average risk", "Risk appetite", "Over appetite"])
    for d in report.departments:
        over = "yes" if d.over_appetite else "no"
        writer.writerow([d.department, d.decisions, _raw(d.average_risk), d.appetite, over])
    writer.writerow([])
    writer.writerow(["Agent", "Department", "Average risk", "Critical decisions", "Denied", "Decisions"])
    for r in report.risks:
        writer.writerow([r.agent, r.department, r.average_risk, r.critical, r.denied, r.decisions])
    writer.writerow([])
    writer.writerow(["Approval", "Department", "Agent", "Action", "Deadline"])
    for a in report.approvals:
        writer.writerow([a.pk, a.department.name, a.decision.agent.name, a.decision.action, a.deadline.isoformat()])
    return out.getvalue()


def _raw(value) -> str:
    return "" if value is None else str(value)


def pdf_report(report: BoardReport) -> bytes:
    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title="Regent board report",
        author="Regent",
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
    )
    story = [
        Paragraph("Regent board report", styles["Title"]),
        Paragraph(f"{report.period.label} · {report.scope_label}", styles["Normal"]),
        Paragraph(f"Generated {report.generated_at:%d %b %Y %H:%M} UTC", styles["Italic"]),
        Spacer(1, 6 * mm),
        Paragraph("Key figures", styles["Heading2"]),
        _table([["Figure", "Value", "Change"], *([t.label, t.display, t.change_display] for t in report.tiles)]),
        Spacer(1, 4 * mm),
        Paragraph("Decisions over the period", styles["Heading2"]),
        _bar_chart(report),
        Paragraph("Departments against their risk appetite", styles["Heading2"]),
        _table(
            [["Department", "Decisions", "Average risk", "Appetite", "Status"]]
            + [
                [
                    d.department,
                    f"{d.decisions:,}",
                    _raw(d.average_risk) or "–",
                    d.appetite,
                    "OVER appetite" if d.over_appetite else "within",
                ]
                for d in report.departments
            ]
        ),
        Paragraph("Top risks", styles["Heading2"]),
        _table(
            [["Agent", "Department", "Average risk", "Critical", "Denied"]]
            + [[r.agent, r.department, r.average_risk, r.critical, r.denied] for r in report.risks]
        ),
        Paragraph("Notable incidents", styles["Heading2"]),
    ]
    story += [Paragraph(_incident_text(i), styles["Normal"]) for i in report.incidents] or [
        Paragraph("None in this period.", styles["Normal"])
    ]
    story += [
        Paragraph("Approvals outstanding", styles["Heading2"]),
        _table(
            [["Department", "Agent", "Action", "Deadline (UTC)"]]
            + [
                [a.department.name, a.decision.agent.name, a.decision.action, f"{a.deadline:%d %b %H:%M}"]
                for a in report.approvals
            ]
        )
        if report.approvals
        else Paragraph("None waiting.", styles["Normal"]),
    ]
    document.build(story)
    return buffer.getvalue()


def _incident_text(incident: Incident) -> str:
    return f"{incident.at:%d %b %H:%M} — {incident.what}" if incident.at else incident.what


def _table(rows: list[list]) -> Table:
    table = Table(rows, hAlign="LEFT", repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("FONTSIZE", (0, 0), (-1, -1), 8.5),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _bar_chart(report: BoardReport) -> Drawing:
    drawing = Drawing(170 * mm, 60 * mm)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 12 * mm, 10 * mm, 150 * mm, 45 * mm
    chart.data = [report.trend.decisions or [0]]
    chart.bars[0].fillColor = colors.HexColor("#0072B2")
    step = max(1, len(report.trend.buckets) // 8)
    fmt = "%H:00" if report.period.grain == "hour" else "%d %b"
    buckets = report.trend.buckets
    chart.categoryAxis.categoryNames = [b.strftime(fmt) if i % step == 0 else "" for i, b in enumerate(buckets)]
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    drawing.add(chart)
    drawing.add(String(12 * mm, 57 * mm, f"Decisions per {report.period.grain}", fontSize=8))
    return drawing
