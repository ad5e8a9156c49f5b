"""The board pack as a CSV a spreadsheet opens cleanly: UTF-8 with a byte-order mark (Excel reads it as
UTF-8 only then), each unit in its column header, values rounded as the pack shows them, waits in minutes.
"""

import csv
import datetime as dt
import io

from django.conf import settings

from dashboard.board import BoardReport
from dashboard.glossary import action_label, role_label

BOM = "\ufeff"
UNITS = {"money": None, "percent": "%", "seconds": "minutes", "count": "count"}


def csv_report(report: BoardReport) -> str:
    """Sections of rows, each with its own header row, separated by an empty row."""
    currency = settings.ORG_CURRENCY
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out)
    writer.writerow(
        [
            "Regent board report",
            report.period.label,
            report.scope_label,
            f"Amounts in {currency} unless a header names another currency",
        ]
    )
    writer.writerow([])
    writer.writerow(["Figure", "This period", "Period before", "Change"])
    for figure in report.figures:
        unit = UNITS[figure.unit]
        label = f"{figure.label} ({unit or currency})"
        writer.writerow([label, _rounded(figure.value, unit), _rounded(figure.previous, unit), figure.change])
        for code, amount in sorted(figure.other_currencies.items()):  # beside the figure, never added into it
            writer.writerow([f"{figure.label} in other currencies ({code})", _money(amount), "", ""])
    writer.writerow([f"Budget for the period ({currency})", _money(report.budget), "", ""])
    writer.writerow([])
    bucket = "Hour" if report.period.grain == "hour" else "Day"
    rate_names = [f"{name} rate (%)" for name in report.trend.rates]
    writer.writerow([f"{bucket} (UTC)", "Decisions (count)", *rate_names])
    for i, start in enumerate(report.trend.buckets):
        rates = [_one_decimal(values[i]) for values in report.trend.rates.values()]
        writer.writerow([f"{start:%Y-%m-%d %H:%M}", report.trend.decisions[i], *rates])
    writer.writerow([])
    writer.writerow(
        ["Department", "Decisions (count)", "Average risk (0–100)", "Risk appetite (0–100)", "Above appetite"]
    )
    for d in report.departments:
        yes = "yes" if d.over_appetite else "no"
        writer.writerow([d.department, d.decisions, _one_decimal(d.average_risk), d.appetite, yes])
    writer.writerow([])
    writer.writerow(["Agent", "Department", "Average risk (0–100)", "Critical (count)", "Denied (count)"])
    for r in report.risks:
        writer.writerow([r.agent, r.department, _one_decimal(r.average_risk), r.critical, r.denied])
    writer.writerow([])
    _incidents(writer, report)
    writer.writerow([])
    _approvals(writer, report)
    writer.writerow([])
    others = report.spend_currencies  # a column per currency: amounts in different currencies are never added
    writer.writerow(
        [
            "Department",
            "Decisions (count)",
            f"Spend ({currency})",
            *(f"Spend ({code})" for code in others),
            f"Cost ({currency})",
            f"Value delivered ({currency})",
        ]
    )
    for row in report.value:
        elsewhere = [_money(row.spend_other_currencies.get(code, 0)) for code in others]
        writer.writerow([row.name, row.decisions, _money(row.spend), *elsewhere, _money(row.cost), _money(row.value)])
    writer.writerow([])
    writer.writerow(["Model provider", "Decisions (count)", "Share (%)", "Above concentration warning"])
    for p in report.providers:
        writer.writerow([p.provider, p.decisions, _one_decimal(p.share), "yes" if p.over_threshold else "no"])
    return out.getvalue()


def _incidents(writer, report: BoardReport) -> None:
    incidents = report.incidents
    writer.writerow(["Incidents in the period (count)", incidents.total, "listed", len(incidents.shown)])
    writer.writerow(
        [
            "When (UTC)",
            "Agent",
            "Department",
            "Action",
            "Amount",
            "Currency",
            "Policy decision",
            "Risk score (0–100)",
            "Why listed",
        ]
    )
    for row in incidents.rows:
        d = row["decision"]
        amount = _money(d.amount) if d.amount is not None else ""
        writer.writerow(
            [
                f"{d.created_at.astimezone(dt.UTC):%Y-%m-%d %H:%M}",
                d.agent.name,
                d.department.name,
                row["action"],
                amount,
                d.currency,
                row["verdict"],
                d.risk_score,
                row["why"],
            ]
        )


def _approvals(writer, report: BoardReport) -> None:
    outstanding = report.approvals
    writer.writerow(
        ["Approvals outstanding at the period's end (count)", outstanding.total, "listed", len(outstanding.shown)]
    )
    writer.writerow(
        [
            "Waiting since (UTC)",
            "Waited by the period's end (minutes)",
            "Department",
            "Agent",
            "Action",
            "Amount",
            "Currency",
            "Who must decide",
        ]
    )
    for a in outstanding.shown:
        waited = (outstanding.at - a.requested_at).total_seconds() / 60
        amount = _money(a.decision.amount) if a.decision.amount is not None else ""
        writer.writerow(
            [
                f"{a.requested_at.astimezone(dt.UTC):%Y-%m-%d %H:%M}",
                _one_decimal(waited),
                a.department.name,
                a.decision.agent.name,
                action_label(a.decision.action),
                amount,
                a.decision.currency,
                role_label(a.approver_role),
            ]
        )


def _rounded(value: float | None, unit: str | None) -> str:
    if value is None:
        return ""
    if unit is None:
        return _money(value)
    if unit == "minutes":
        return _one_decimal(value / 60)
    if unit == "count":
        return str(round(value))
    return _one_decimal(value)


def _money(value) -> str:
    return f"{float(value):.2f}"


def _one_decimal(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"
