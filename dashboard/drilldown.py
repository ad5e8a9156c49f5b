"""Where each overview figure leads: the list of rows behind it, filtered the same way (period and departments).

The decisions explorer takes the period as `since`/`until` (the period's half-open span) and the verdicts a
figure counts; the agents' league and the approvals backlog take the overview's own filter.
"""

from collections.abc import Iterable
from urllib.parse import urlencode

from django.urls import reverse

from dashboard.glossary import VIOLATION_VERDICTS
from dashboard.inbox import ANY_APPROVER
from dashboard.periods import Period
from governance.models import Verdict

NOT_SENT_TO_A_PERSON = tuple(v for v in Verdict if v != Verdict.REQUIRE_APPROVAL)

# tile key → verdicts of the decisions behind it (None: every decision)
DECISION_TILES: dict[str, tuple[str, ...] | None] = {
    "decisions": None,
    "automation_rate": NOT_SENT_TO_A_PERSON,
    "escalation_rate": (Verdict.REQUIRE_APPROVAL,),
    "violation_rate": VIOLATION_VERDICTS,
    "override_rate": VIOLATION_VERDICTS,
    "rejection_rate": (Verdict.REQUIRE_APPROVAL,),
    "median_approval_seconds": (Verdict.REQUIRE_APPROVAL,),
}
LEAGUE_TILES = {"spend": "-spend", "value": "-value", "active_agents": "agent"}


def decisions_url(period: Period, departments: Iterable[int] | None, verdicts: Iterable[str] | None = None) -> str:
    """The explorer listing the period's decisions (of these verdicts) in these departments."""
    pairs = [("since", period.start.isoformat()), ("until", period.end.isoformat())]
    pairs += [("department", pk) for pk in departments or []]
    pairs += [("verdict", str(v)) for v in verdicts or []]
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
    links = {key: decisions_url(period, departments, verdicts) for key, verdicts in DECISION_TILES.items()}
    links |= {key: league_url(filter_query, sort) for key, sort in LEAGUE_TILES.items()}
    links["open_approvals"] = "#backlog"
    return links
