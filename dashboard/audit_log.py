"""The audit log as people read it: newest first, in business words, a page at a time.

Pages are keyed on the chain's order (`seq`, the primary key): each page asks for the events before the last one
shown, so the hundredth page costs what the first does on a chain of millions, where an OFFSET would walk every
event before it. A Supervisor reads only their departments' events; organisation-wide events (roles, policies,
supervision) are for people who see the whole organisation, as in the admin and the API.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django import forms
from django.db import connection
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.http import urlencode

from audit.models import AuditEvent
from dashboard.glossary import EVENT_LABELS, actor_names, event_label
from dashboard.periods import FilterForm
from orchestration.scoping import scope_to_departments

PAGE_SIZE = 50


class AuditLogFilterForm(FilterForm):
    """The period and departments of every page, plus what happened, who acted, and where the page starts."""

    default_period = "7d"

    kind = forms.ChoiceField(label="What happened", required=False)
    actor = forms.CharField(
        label="Who acted",
        required=False,
        max_length=200,
        help_text="As recorded: user:bob, agent:invoice-bot, system:deadline.",
    )
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, data, *, user, **kwargs):
        super().__init__(data, user=user, **kwargs)
        kinds = sorted(set(EVENT_LABELS) | set(recorded_kinds()), key=event_label)
        self.fields["kind"].choices = [("", "Everything"), *((kind, event_label(kind)) for kind in kinds)]

    def query_string(self, before: int | None = None) -> str:
        """The filter as a URL query; `before` the next page's start."""
        extra = [(name, self.cleaned_data[name]) for name in ("kind", "actor") if self.cleaned_data.get(name)]
        if before:
            extra.append(("before", before))
        return "&".join(part for part in (super().query_string(), urlencode(extra)) if part)


@dataclass(frozen=True)
class EventRow:
    event: AuditEvent
    what: str
    who: str
    about: str  # what the event is about, when it is not a decision: "Agent 12"
    decision_url: str | None


@dataclass(frozen=True)
class AuditPage:
    rows: list[EventRow]
    next_before: int | None  # the `before` of the page of older events, None on the last page
    first_page: bool


def recorded_kinds() -> list[str]:
    """Every kind of event in the log. A loose index scan over (kind, occurred_at): one index probe per kind (a few
    dozen), where SELECT DISTINCT would read every event."""
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH RECURSIVE kinds(kind) AS ("  # noqa: S608 (the table's name, quoted; no input)
            f" SELECT (SELECT min(kind) FROM {table})"
            f" UNION ALL SELECT (SELECT min(e.kind) FROM {table} e WHERE e.kind > kinds.kind)"
            f" FROM kinds WHERE kinds.kind IS NOT NULL"
            f") SELECT kind FROM kinds WHERE kind IS NOT NULL"
        )
        return [kind for (kind,) in cursor.fetchall()]


def events_for(user, filters: AuditLogFilterForm) -> QuerySet[AuditEvent]:
    """The events this person may read that match the filters, newest first."""
    data = filters.cleaned_data
    period = filters.get_period()
    events = scope_to_departments(AuditEvent.objects.all(), user)
    events = events.filter(occurred_at__gte=period.start, occurred_at__lt=period.end)
    if departments := filters.department_ids():
        events = events.filter(department_id__in=departments)
    if data.get("kind"):
        events = events.filter(kind=data["kind"])
    if data.get("actor"):
        events = events.filter(actor_label=data["actor"].strip())
    return events.order_by("-seq")


def audit_page(user, filters: AuditLogFilterForm) -> AuditPage:
    """One page of events: PAGE_SIZE of them before `before` (the newest when absent), with the next page's key."""
    events = events_for(user, filters)
    before = filters.cleaned_data.get("before")
    if before:
        events = events.filter(seq__lt=before)
    page = list(events.defer("before", "prev_hash")[: PAGE_SIZE + 1])
    more = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    decisions = _decision_ids(page)
    names = actor_names(event.actor_label for event in page)
    rows = [
        EventRow(
            event,
            event_label(event.kind),
            names.get(event.actor_label, event.actor_label),
            f"{event.subject_type.replace('_', ' ').capitalize()} {event.subject_id}",
            reverse("dashboard:decision", args=[decisions[event.seq]]) if event.seq in decisions else None,
        )
        for event in page
    ]
    return AuditPage(rows, page[-1].seq if more else None, before is None)


def _decision_ids(events: Sequence[AuditEvent]) -> dict[int, int]:
    """The decision each event is about: its subject, or the decision an approval's or a step's event names."""
    found = {}
    for event in events:
        decision = event.subject_id if event.subject_type == "decision" else (event.after or {}).get("decision_id")
        if str(decision or "").isdigit():
            found[event.seq] = int(decision)
    return found
