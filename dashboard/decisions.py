"""What the decision explorer and the decision page show.

The explorer pages by keyset, newest first: a cursor is the (created_at, id) of the row a page ends at,
so a page costs one index walk of PAGE_SIZE + 1 rows at any depth, counts nothing, and new decisions
never shift the pages behind them. Filters are governance.filtersets.DecisionFilterSet, the API's own,
with the choices narrowed to what the viewer may see.
"""

import base64
import binascii
import datetime as dt
from dataclasses import dataclass

from django import forms
from django.db import connection
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL

from audit.chain import LinkReport, verify_links
from audit.models import AuditEvent, PendingEvent
from dashboard.glossary import action_label
from governance.filtersets import MAX_ID, DecisionFilterSet
from governance.models import Decision, Effect, Mode, Policy, PolicyVersion
from orchestration.models import Capability
from orchestration.roles import sees_whole_organisation
from orchestration.scoping import visible_agents, visible_departments

PAGE_SIZE = 50
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def scoped_decisions(user) -> QuerySet[Decision]:
    """Decisions the person may see. Department ids are listed, not sub-selected, so each walks its index."""
    decisions = Decision.objects.select_related("agent", "department", "override", "approval")
    if sees_whole_organisation(user):
        return decisions
    return decisions.filter(department_id__in=list(visible_departments(user).values_list("pk", flat=True)))


class ExplorerFilterSet(DecisionFilterSet):
    """The API's filters as a page form: choices limited to the viewer's agents and departments."""

    def __init__(self, data, *, queryset: QuerySet, user):
        super().__init__(data, queryset=queryset)
        self.filters["agent"].queryset = visible_agents(user).order_by("name")
        self.filters["department"].queryset = visible_departments(user).order_by("name")
        # Ticked in a list that type-ahead narrows (static/js/picker.js); without the script, a scrolling list.
        self.filters["agent"].extra["widget"] = forms.CheckboxSelectMultiple
        self.filters["department"].extra["widget"] = forms.CheckboxSelectMultiple
        self.filters["verdict"].extra["widget"] = forms.CheckboxSelectMultiple
        self.filters["approval"].extra["widget"] = forms.CheckboxSelectMultiple
        self.filters["overridden"].extra["empty_label"] = "Either"
        self.filters["action"].extra["widget"] = forms.Select(choices=action_choices((data or {}).get("action", "")))
        self.filters["risk_band"].extra["empty_label"] = "Any band"
        policies = [("", "Any policy"), *Policy.objects.order_by("name").values_list("pk", "name")]
        self.filters["policy"].extra["widget"] = forms.Select(choices=policies)
        for name in ("since", "until"):
            self.filters[name].extra["widget"] = forms.DateTimeInput(attrs={"type": "datetime-local", "step": 1})
        self.filters["q"].extra["widget"] = forms.TextInput(attrs={"type": "search"})
        for narrowed in self.filters.values():
            # A filter builds its form field once and keeps it (`_field`); the API's schema and requests build
            # them on the shared base filters, which every instance copies. Without this the page would show
            # the API's widgets and every agent and department instead of the viewer's.
            narrowed.__dict__.pop("_field", None)


def action_choices(current: str) -> list[tuple[str, str]]:
    """Every capability as an action in words; an action asked for that no capability names is kept, as its code."""
    codes = list(Capability.objects.values_list("code", flat=True))
    if current and current not in codes:
        codes.append(current)
    return [("", "Any action"), *sorted(((code, action_label(code)) for code in codes), key=lambda c: c[1])]


class CursorError(ValueError):
    pass


@dataclass(frozen=True)
class Position:
    created_at: dt.datetime
    id: int


def encode_cursor(decision: Decision) -> str:
    micros = (decision.created_at - EPOCH) // dt.timedelta(microseconds=1)
    return base64.urlsafe_b64encode(f"{micros}.{decision.pk}".encode()).decode().rstrip("=")


def decode_cursor(token: str) -> Position:
    try:
        micros, pk = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii").split(".")
        position = Position(EPOCH + dt.timedelta(microseconds=int(micros)), int(pk))
    except (ValueError, UnicodeDecodeError, binascii.Error, OverflowError):
        raise CursorError("This page link is damaged: go back to the first page.") from None
    if not 1 <= position.id <= MAX_ID:
        raise CursorError("This page link is damaged: go back to the first page.")
    return position


def _beyond(position: Position, *, older: bool) -> RawSQL:
    """(created_at, id) compared as a row, which PostgreSQL answers from the (…, created_at, id) indexes."""
    quote, table = connection.ops.quote_name, connection.ops.quote_name(Decision._meta.db_table)
    columns = f"{table}.{quote('created_at')}, {table}.{quote('id')}"
    moment = connection.ops.adapt_datetimefield_value(position.created_at)
    sql = f"({columns}) {'<' if older else '>'} (%s, %s)"
    return RawSQL(sql, (moment, position.id), output_field=BooleanField())  # noqa: S611 (fixed names, bound values)


@dataclass(frozen=True)
class Page:
    rows: list[Decision]
    newer: str | None  # cursors for the neighbouring pages, None at either end
    older: str | None


def page_of(decisions: QuerySet, *, older: str = "", newer: str = "", size: int = PAGE_SIZE) -> Page:
    """One page of `decisions`, newest first: the first, or the one older or newer than a cursor."""
    if newer:
        rows = list(
            decisions.filter(_beyond(decode_cursor(newer), older=False)).order_by("created_at", "id")[: size + 1]
        )
        if len(rows) <= size:  # reached the newest: show the first page, full
            return page_of(decisions, size=size)
        rows = rows[:size][::-1]
        return Page(rows, newer=encode_cursor(rows[0]), older=encode_cursor(rows[-1]))
    if older:
        decisions = decisions.filter(_beyond(decode_cursor(older), older=True))
    rows = list(decisions.order_by("-created_at", "-id")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return Page(
        rows,
        newer=encode_cursor(rows[0]) if older and rows else None,
        older=encode_cursor(rows[-1]) if more else None,
    )


# --- one decision ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvaluatedPolicy:
    policy_id: int | None
    name: str
    version: int | None
    effect: str
    mode: str
    condition: str | None  # None when the version is not on record (history loaded in bulk)
    rationale: str
    fired: bool
    error: str = ""

    @property
    def asked_for_a_person(self) -> bool:
        return self.fired and self.effect == Effect.REQUIRE_APPROVAL and self.mode == Mode.ENFORCE


def evaluated_policies(decisions: list[Decision]) -> dict[int, list[EvaluatedPolicy]]:
    """Every policy version each decision was evaluated against, fired ones first; one query for all."""
    version_ids = {pk for d in decisions for pk in d.policy_versions} | {
        m["version_id"] for d in decisions for m in d.matched_policies if m.get("version_id")
    }
    versions = {v.pk: v for v in PolicyVersion.objects.filter(pk__in=version_ids)}
    evaluated = {}
    for decision in decisions:
        hits = {m["version_id"]: m for m in decision.matched_policies if m.get("version_id") in versions}
        rows = [_evaluated(versions[pk], hits.get(pk)) for pk in decision.policy_versions if pk in versions]
        rows += [_evaluated(versions[pk], hit) for pk, hit in hits.items() if pk not in decision.policy_versions]
        rows += [_unrecorded(m) for m in decision.matched_policies if m.get("version_id") not in versions]
        evaluated[decision.pk] = sorted(rows, key=lambda p: not p.fired)
    return evaluated


def _evaluated(version: PolicyVersion, hit: dict | None) -> EvaluatedPolicy:
    snapshot = version.snapshot
    return EvaluatedPolicy(
        policy_id=version.policy_id,
        name=snapshot.get("name", ""),
        version=version.number,
        effect=snapshot.get("effect", ""),
        mode=hit["mode"] if hit else snapshot.get("mode", ""),
        condition=snapshot.get("condition", ""),
        rationale=snapshot.get("rationale", ""),
        fired=hit is not None,
        error=(hit or {}).get("error", ""),
    )


def _unrecorded(hit: dict) -> EvaluatedPolicy:
    return EvaluatedPolicy(
        policy_id=hit.get("id"),
        name=hit.get("name", ""),
        version=hit.get("version"),
        effect=hit.get("effect", ""),
        mode=hit.get("mode", ""),
        condition=None,
        rationale=hit.get("rationale", ""),
        fired=True,
        error=hit.get("error", ""),
    )


def audit_trail(decision: Decision) -> list[LinkReport]:
    """The decision's entries in the audit chain (its creation, its approval's life, an override), each with
    whether the chain holds at that link."""
    events = AuditEvent.objects.none()
    for subject_type, subject_id in _audit_subjects(decision):
        events |= AuditEvent.objects.filter(subject_type=subject_type, subject_id=str(subject_id))
    return verify_links(list(events.order_by("seq")))


def queued_entries(decision: Decision) -> list[PendingEvent]:
    """The decision's audit events committed but not chained yet (queued sequencing: for a moment at most)."""
    entries = PendingEvent.objects.none()
    for subject_type, subject_id in _audit_subjects(decision):
        entries |= PendingEvent.objects.filter(subject_type=subject_type, subject_id=str(subject_id))
    return list(entries.order_by("pk"))


def _audit_subjects(decision: Decision) -> list[tuple[str, int]]:
    subjects = [("decision", decision.pk)]
    approval = getattr(decision, "approval", None)
    if approval is not None:
        subjects.append(("approval", approval.pk))
    return subjects
