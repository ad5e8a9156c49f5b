"""The approvals inbox as a query: the filters a person narrows it with, its sort orders and its pages.

Everything a page shows comes from `read_inbox`, for the full page and for the live re-read alike, so the
list the stream refreshes is always the list the filters in the URL ask for.
"""

import datetime as dt
from dataclasses import dataclass, field

from django import forms
from django.core.paginator import Page, Paginator
from django.db.models import F, QuerySet
from django.http import QueryDict
from django.utils import timezone

from dashboard.decisions import EvaluatedPolicy, evaluated_policies
from governance import approvals
from governance.models import Approval
from governance.models.policy import ApproverRole
from governance.risk import RISK_BANDS
from orchestration.models import Agent, Capability, Department
from orchestration.roles import Role, roles_of
from orchestration.scoping import visible_agents, visible_departments

PAGE_SIZE = 25
ADDRESSED_TO_ME, ANY_APPROVER = "", "any"
SORTS = {
    "deadline": ("Nearest deadline first", (F("deadline").asc(), F("pk").asc())),
    "oldest": ("Oldest request first", (F("requested_at").asc(), F("pk").asc())),
    "amount": ("Largest amount first", (F("decision__amount").desc(nulls_last=True), F("pk").asc())),
    "risk": ("Highest risk first", (F("decision__risk_score").desc(), F("deadline").asc(), F("pk").asc())),
}
AGES = {
    "1h": ("Waiting over 1 hour", dt.timedelta(hours=1)),
    "4h": ("Waiting over 4 hours", dt.timedelta(hours=4)),
    "24h": ("Waiting over 1 day", dt.timedelta(days=1)),
    "7d": ("Waiting over 7 days", dt.timedelta(days=7)),
}
# The query names a link may carry (the overview's tiles, a bookmark); the page number is the pager's own.
FILTER_NAMES = ("department", "agent", "action", "risk", "age", "role", "sort")


class InboxFilterForm(forms.Form):
    """What the inbox's URL may ask for; choices are limited to what the person may see."""

    department = forms.ModelChoiceField(queryset=Department.objects.none(), required=False, empty_label="All")
    agent = forms.ModelChoiceField(queryset=Agent.objects.none(), required=False, empty_label="All")
    action = forms.CharField(required=False, max_length=80, strip=True)
    risk = forms.ChoiceField(required=False)
    age = forms.ChoiceField(required=False)
    role = forms.ChoiceField(required=False, label="Approver")
    sort = forms.ChoiceField(required=False)
    page = forms.IntegerField(required=False, min_value=1)

    def __init__(self, data: QueryDict, *, user) -> None:
        super().__init__(data)
        self.fields["department"].queryset = visible_departments(user).order_by("name")
        self.fields["agent"].queryset = visible_agents(user).order_by("name")
        self.fields["risk"].choices = [("", "Any")] + [
            (band, f"{band.capitalize()} ({low}–{high})") for band, (low, high) in RISK_BANDS.items()
        ]
        self.fields["age"].choices = [("", "Any")] + [(key, label) for key, (label, _) in AGES.items()]
        mine = "Addressed to you" if approvals.decides_any(user) else "Any approver"
        self.fields["role"].choices = [
            (ADDRESSED_TO_ME, mine),
            *[(value, f"{label}s") for value, label in ApproverRole.choices],
            (ANY_APPROVER, "Any approver"),
        ]
        self.fields["sort"].choices = [(key, label) for key, (label, _) in SORTS.items()]
        self.actions = list(Capability.objects.values_list("code", flat=True))

    def clean_sort(self) -> str:
        return self.cleaned_data["sort"] or "deadline"


@dataclass
class InboxItem:
    approval: Approval
    asking: list[EvaluatedPolicy]
    can_decide: bool
    note: dict = field(default_factory=dict)  # a refused action's message, placed by the control that was used

    @property
    def decision(self):
        return self.approval.decision


@dataclass
class Inbox:
    page: Page
    items: list[InboxItem]
    decides: bool
    query: str  # the filters, without the page, for links that keep them

    @property
    def summary(self) -> str:
        """ "150 waiting, 1–25 shown." """
        total = self.page.paginator.count
        if not total:
            return "0 waiting."
        return f"{total:,} waiting, {self.page.start_index():,}–{self.page.end_index():,} shown."


def filtered(user, filters: dict) -> QuerySet[Approval]:
    """The pending requests in the person's scope that the (valid) filters select, in the chosen order."""
    pending = approvals.pending_in_scope(user)
    role = filters.get("role") or ADDRESSED_TO_ME
    if role == ADDRESSED_TO_ME and not user.is_superuser and approvals.decides_any(user):
        pending = pending.filter(approver_role__in=roles_of(user))
    elif role in ApproverRole.values:
        pending = pending.filter(approver_role=role)
    if filters.get("department"):
        pending = pending.filter(department=filters["department"])
    if filters.get("agent"):
        pending = pending.filter(decision__agent=filters["agent"])
    if filters.get("action"):
        pending = pending.filter(decision__action=filters["action"])
    if filters.get("risk"):
        pending = pending.filter(decision__risk_score__range=RISK_BANDS[filters["risk"]])
    if filters.get("age"):
        pending = pending.filter(requested_at__lte=timezone.now() - AGES[filters["age"]][1])
    return pending.order_by(*SORTS[filters.get("sort") or "deadline"][1])


def may_decide_listed(user, approval: Approval) -> bool:
    """`approvals.may_decide` for a request already known to be in the person's departments, without a query."""
    if user.is_superuser or Role.EXECUTIVE in roles_of(user):
        return True
    return approval.approver_role == ApproverRole.SUPERVISOR and Role.SUPERVISOR in roles_of(user)


def read_inbox(user, filters: dict, page_number: int | None) -> Inbox:
    """One page of the person's filtered inbox, each card with the policies that asked for a person."""
    listing = filtered(user, filters).select_related("decision__agent", "decision__department")
    page = Paginator(listing, PAGE_SIZE).get_page(page_number)
    listed = list(page.object_list)
    policies = evaluated_policies([a.decision for a in listed])
    decides = approvals.decides_any(user)
    items = [
        InboxItem(
            approval=approval,
            asking=[p for p in policies[approval.decision_id] if p.asked_for_a_person],
            can_decide=decides and may_decide_listed(user, approval),
        )
        for approval in listed
    ]
    query = QueryDict(mutable=True)
    for name in FILTER_NAMES:
        value = filters.get(name)
        if value not in (None, ""):
            query[name] = str(getattr(value, "pk", value))
    return Inbox(page=page, items=items, decides=decides, query=query.urlencode())


def relative_deadline(deadline: dt.datetime, now: dt.datetime) -> str:
    """ "in 3 h 10 min", "overdue by 5 min": static/js/approvals.js words it the same way as time passes."""
    seconds = (deadline - now).total_seconds()
    span = _span(abs(seconds))
    return f"in {span}" if seconds >= 0 else f"overdue by {span}"


def _span(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 1:
        return "under 1 min"
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"
