"""Where each overview figure leads: the list of rows behind it, filtered the same way (period and departments).

The decisions explorer takes the period as `since`/`until` (the period's half-open span) and the filters that pick
the decisions a figure counts (for a rate, those of its numerator); the agents' league and the approvals backlog
take the overview's own filter.
"""

from collections.abc import Iterable
from urllib.parse import urlencode

from django.urls import reverse

from dashboard.glossary import VIOLATION_VERDICTS
from dashboard.inbox import ANY_APPROVER
from dashboard.periods import Period
from governance.models import Approval, Verdict

NOT_SENT_TO_A_PERSON = tuple(v for v in Verdict if v != Verdict.REQUIRE_APPROVAL)


def _verdicts(verdicts: Iterable[str]) -> list[tuple[str, str]]:
    return [("verdict", str(v)) for v in verdicts]


# tile key → the explorer's filters for the decisions behind it (none: every decision of the period)
DECISION_TILES: dict[str, list[tuple[str, str]]] = {
    "decisions": [],
    "automation_rate": _verdicts(NOT_SENT_TO_A_PERSON),
    "escalation_rate": _verdicts([Verdict.REQUIRE_APPROVAL]),
    "violation_rate": _verdicts(VIOLATION_VERDICTS),
    "override_rate": [("overridden", "true")],
    "rejection_rate": [("approval", Approval.Status.REJECTED)],
    # the waits the median is taken over: requests a person approved or rejected
    "median_approval_seconds": [("approval", Approval.Status.APPROVED), ("approval", Approval.Status.REJECTED)],
}
LEAGUE_TILES = {"spend": "-spend", "value": "-value", "active_agents": "agent"}


def decisions_url(period: Period, departments: Iterable[int] | None, filters: Iterable[tuple[str, str]] = ()) -> str:
    """The explorer listing the period's decisions in these departments that pass these filters."""
    pairs = [("since", period.start.isoformat()), ("until", period.end.isoformat())]
    pairs += [("department", pk) for pk in departments or []]
    pairs += [(name, str(value)) for name, value in filters]
    return f"{reverse('dashboard:decisions')}?{urlencode(pairs)}"


def league_url(filter_query: str, sort: str) -> str:
    return f"{reverse('dashboard:agents')}?{filter_query}&sort={sort}"


def inbox_url(departments: Iterable[int] | None, role: str = ANY_APPROVER) -> str:
    """The inbox listing the waiting requests for `role` (any approver by default), in the one department the
    overview is filtered to if it is (the inbox filters by one department at most)."""
    departments = list(departments or [])
    pairs = [("role", role), *([("department", departments[0])] if len(departments) == 1 else [])]
    return f"{reverse('dashboard:approvals')}?{urlencode(pairs)}"


def tile_links(period: Period, departments: Iterable[int] | None, filter_query: str) -> dict[str, str]:
    """Each tile's key → the URL of the rows behind its figure."""
    links = {key: decisions_url(period, departments, filters) for key, filters in DECISION_TILES.items()}
    links |= {key: league_url(filter_query, sort) for key, sort in LEAGUE_TILES.items()}
    links["open_approvals"] = "#backlog"
    return links
