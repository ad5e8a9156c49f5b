"""The overview's headline: a few sentences, written from the figures, that say what changed against the period
before, where risk is above appetite, and what waits for a decision and by whom.

Plain functions of the figures (tiles, department risk, the approvals backlog), so the words always agree with
the numbers beside them, and the board pack can say the same.
"""

import datetime as dt
from dataclasses import dataclass

from dashboard.glossary import role_label
from dashboard.kpis.approvals import Backlog
from dashboard.kpis.risk import DepartmentRisk
from dashboard.kpis.tiles import Tile
from dashboard.money import amounts_in_words, format_money
from dashboard.periods import Period

PERIOD_WORDS = {
    "24h": ("In the last 24 hours", "the 24 hours before"),
    "7d": ("In the last 7 days", "the 7 days before"),
    "30d": ("In the last 30 days", "the 30 days before"),
    "qtd": ("This quarter so far", "the same length of time before"),
}


@dataclass(frozen=True)
class Sentence:
    key: str  # activity, spend, violations, risk, approvals
    text: str
    tone: str = "neutral"  # good, bad or neutral: for styling only, the words say it


def headline(tiles: list[Tile], risks: list[DepartmentRisk], backlog: Backlog, period: Period, now: dt.datetime):
    """The sentences, in the order an executive reads them."""
    figures = {tile.key: tile for tile in tiles}
    return [
        _activity(figures["decisions"], period),
        _spend(figures["spend"]),
        _violations(figures["violation_rate"]),
        _risk(risks),
        _approvals(backlog, now),
    ]


def _period_words(period: Period) -> tuple[str, str]:
    if period.key in PERIOD_WORDS:
        return PERIOD_WORDS[period.key]
    last = period.end - dt.timedelta(days=1)
    return f"From {period.start:%d %b} to {last:%d %b %Y}", "the period of the same length before"


def _activity(decisions: Tile, period: Period) -> Sentence:
    now_words, before_words = _period_words(period)
    count, previous = int(decisions.value or 0), int(decisions.previous or 0)
    if not count:
        text = f"{now_words} agents asked for no decisions"
        return Sentence("activity", text + (f", against {previous:,} in {before_words}." if previous else "."))
    made = f"{now_words} agents asked for {count:,} decision{'s' if count != 1 else ''}"
    if not previous:
        return Sentence("activity", f"{made}; there were none in {before_words}.")
    change = decisions.change or 0
    if abs(change) < 1:
        return Sentence("activity", f"{made}, about as many as in {before_words}.")
    direction = "more" if change > 0 else "fewer"
    return Sentence("activity", f"{made}, {abs(change):,.0f}% {direction} than in {before_words} ({previous:,}).")


def _spend(spend: Tile) -> Sentence:
    """Spend in the organisation's currency against the budget (also in it); other currencies said beside it."""
    amount, share = format_money(spend.value or 0, whole=True), spend.budget_share
    also = ""
    if elsewhere := amounts_in_words(spend.other_currencies):
        also = (
            f" Actions in other currencies also committed {elsewhere}, kept apart and not counted against the budget."
        )
    if share is None:
        return Sentence("spend", f"Agents' actions committed {amount} of spend; no budget is set for it.{also}")
    budget = format_money(spend.budget, whole=True)
    if share > 100:
        text = f"Spend is over budget: {amount} against {budget}, {share:.0f}% of it.{also}"
        return Sentence("spend", text, "bad")
    return Sentence("spend", f"Agents' actions committed {amount} of spend, {share:.0f}% of the {budget} budget.{also}")


def _violations(rate: Tile) -> Sentence:
    if rate.value is None:
        return Sentence("violations", "With no decisions there were no violations.")
    change = rate.change
    trend = ""
    if change:
        points = "point" if abs(change) == 1 else "points"
        trend = f", {'up' if change > 0 else 'down'} {abs(change):g} {points} on the period before"
    tone = "neutral" if not change else ("bad" if change > 0 else "good")
    return Sentence("violations", f"{rate.value:.1f}% of decisions were violations ({rate.note}){trend}.", tone)


def _risk(risks: list[DepartmentRisk]) -> Sentence:
    over = [r for r in risks if r.over_appetite]
    if not any(r.decisions for r in risks):
        return Sentence("risk", "No department acted in this period, so none is above its risk appetite.")
    if not over:
        # A department's average: one of its agents may still be above it (the top risks say which).
        return Sentence("risk", "Every department's average risk is within its appetite.", "good")
    parts = [f"{r.department} (average risk {r.average_risk:g} against an appetite of {r.appetite})" for r in over]
    return Sentence("risk", f"Risk is above appetite in {_join(parts)}.", "bad")


def _approvals(backlog: Backlog, now: dt.datetime) -> Sentence:
    where = "across the organisation" if backlog.whole_organisation else "in your departments"
    if not backlog.waiting:
        return Sentence("approvals", f"No request is waiting for a person's decision {where}.", "good")
    plural = "s wait" if backlog.waiting != 1 else " waits"
    by_role = _join([f"{n:,} for {_a(role_label(role))}" for role, n in backlog.by_role.items()])
    oldest = wait_words(backlog.oldest_wait(now))
    text = f"{backlog.waiting:,} request{plural} for a decision {where}: {by_role}; the oldest has waited {oldest}."
    if backlog.for_viewer:
        text += f" {backlog.for_viewer:,} of them {'are' if backlog.for_viewer != 1 else 'is'} yours to decide."
    return Sentence("approvals", text, "bad" if backlog.oldest_wait(now) > dt.timedelta(hours=4) else "neutral")


def wait_words(wait: dt.timedelta | None) -> str:
    """12 min, 3 h 10 min, 2 days 4 h: how long, as a person says it."""
    if wait is None:
        return "–"
    minutes = int(wait.total_seconds() // 60)
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} day{'s' if days != 1 else ''} {hours} h" if hours else f"{days} day{'s' if days != 1 else ''}"


def _a(noun: str) -> str:
    return f"an {noun}" if noun[:1].lower() in "aeiou" else f"a {noun}"


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
