"""The board pack's executive summary: the period's figures said in sentences, one paragraph per topic.

Every number here comes from the same `BoardReport` the tables and charts show, so the words cannot
disagree with them.
"""

from dashboard.board import BoardReport, Figure
from dashboard.money import amounts_in_words, format_money


def executive_summary(report: BoardReport) -> list[str]:
    """Activity, people, money, risk, incidents, approvals and vendors, in that order."""
    return [
        _activity(report),
        _people(report),
        _money(report),
        _risk(report),
        _incidents(report),
        _approvals(report),
        _vendors(report),
    ]


def _compared(figure: Figure) -> str:
    """ ", up 12% on the period before"; points for rates; nothing when there is nothing to compare."""
    if figure.value is None or not figure.previous:
        return ""
    if figure.value == figure.previous:
        return ", the same as the period before"
    way = "up" if figure.value > figure.previous else "down"
    if figure.key.endswith("_rate"):
        return f", {way} {abs(figure.value - figure.previous):.1f} points on the period before"
    return f", {way} {abs(100 * (figure.value - figure.previous) / figure.previous):.0f}% on the period before"


def _activity(report: BoardReport) -> str:
    decisions = report.figure("decisions")
    count = int(decisions.value or 0)
    if not count:
        return f"No agent asked for a decision in {_span(report)}."
    noun = "decision" if count == 1 else "decisions"
    return f"Agents asked for {count:,} {noun} in {_span(report)}{_compared(decisions)}."


def _people(report: BoardReport) -> str:
    automation, escalation = report.figure("automation_rate"), report.figure("escalation_rate")
    if automation.value is None:
        return "With no decisions, nothing was sent to a person."
    sentence = (
        f"{automation.display} were decided without a person{_compared(automation)}; "
        f"{escalation.display} were sent to a person."
    )
    rejection, wait = report.figure("rejection_rate"), report.figure("median_approval_seconds")
    if rejection.value is not None:
        sentence += f" People rejected {rejection.display} of what they decided"
        sentence += f", with a median wait of {wait.display}." if wait.value is not None else "."
    return sentence


def _money(report: BoardReport) -> str:
    spend, value = report.figure("spend"), report.figure("value")
    sentence = f"Spend was {spend.display}{_compared(spend)}"
    if report.budget:
        used = 100 * (spend.value or 0) / report.budget
        sentence += f", {used:.0f}% of the {format_money(report.budget, whole=True)} budget for the period"
    if elsewhere := amounts_in_words(spend.other_currencies):
        sentence += f"; actions in other currencies also committed {elsewhere}, kept apart"
        sentence += " and not counted against the budget" if report.budget else ""
    sentence += f". Reported outcomes delivered {value.display} of value"
    best = next((row for row in report.value if row.value > 0), None)
    if best is not None:
        sentence += f", the most in {best.name} ({format_money(best.value, whole=True)})"
    return sentence + "."


def _risk(report: BoardReport) -> str:
    over = [d for d in report.departments if d.over_appetite]
    if not over:
        return "Every department stayed within its risk appetite."
    parts = [f"{d.department} (average {d.average_risk:g} against {d.appetite})" for d in over]
    verb = "was above its" if len(over) == 1 else "were above their"
    return f"{_join(parts)} {verb} risk appetite."


def _incidents(report: BoardReport) -> str:
    incidents = report.incidents
    if not incidents.total:
        return "There were no incidents: no decision was denied or scored critical risk."
    return (
        f"There {'was' if incidents.total == 1 else 'were'} {incidents.total:,} "
        f"incident{'s' if incidents.total != 1 else ''}: {incidents.denied:,} denied by policy and "
        f"{incidents.critical:,} scored critical risk (75 or more); some can be both."
    )


def _approvals(report: BoardReport) -> str:
    outstanding = report.approvals
    if not outstanding.total:
        return "When the period ended, no request was waiting for a person."
    oldest = outstanding.shown[0].requested_at if outstanding.shown else None
    since = f", the oldest since {oldest:%d %b %Y %H:%M} UTC" if oldest else ""
    waiting = "request was" if outstanding.total == 1 else "requests were"
    return f"When the period ended, {outstanding.total:,} {waiting} waiting for a person{since}."


def _vendors(report: BoardReport) -> str:
    if not report.providers:
        return "No work was routed to a model provider."
    top = report.providers[0]
    sentence = f"{top.provider} carried {top.share:g}% of the work"
    if top.over_threshold:
        return sentence + ", above the concentration warning: a lock-in risk."
    return sentence + ", within the concentration warning."


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _span(report: BoardReport) -> str:
    """ "the 7 days from 27 Nov to 3 Dec 2026" or "the 24 hours to 3 Dec 2026 11:00 UTC"."""
    period = report.period
    if period.grain == "hour":
        return f"the {period.length.total_seconds() / 3600:.0f} hours to {period.end.day} {period.end:%b %Y %H:%M} UTC"
    first, last = period.start.date(), period.last_day
    return f"the {period.days:.0f} days from {first.day} {first:%b} to {last.day} {last:%b %Y}"
