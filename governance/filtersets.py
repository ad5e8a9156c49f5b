"""Filtering decisions: one filter set for the API and the decision explorer page.

A plain django-filter FilterSet: `DecisionFilterSet(request.GET, queryset=scoped_decisions).qs`.

Every filter but text search can walk an index in (created_at, id) order. Text search (`q`) reads a bounded
window, `since`..`until` when given (at most TEXT_SEARCH_MAX_DAYS), else the day before `until`, the same on
every database. On PostgreSQL a term with three letters or digits in a row is matched against the searched
text, one expression that a trigram index holds (governance migration 0014): a rare term costs its matches,
and for a common one the planner may still walk (created_at, id) and stop after a page. Shorter terms, which
no trigram index can answer, and SQLite read the window's decisions column by column (`icontains`): about
0.4 s a day at 110 thousand decisions a day on PostgreSQL. The index does not know the window: a term rare as a
whole but made of trigrams that most decisions hold ("default allow" beside "the Finance default (allow)")
makes it read those trigrams' entries for the whole table (1.5 to 2.7 s at 2 million decisions, 2026-12-03).
"""

import datetime as dt
import re

import django_filters
from django import forms
from django.db import connection
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django_filters.fields import IsoDateTimeField

from governance.models import Approval, Decision, Verdict
from governance.risk import RISK_BANDS
from orchestration.models import Agent, Department

MAX_ID = 2**63 - 1  # the largest id a 64-bit key holds; the API refuses larger ones as field errors
TEXT_SEARCH_DEFAULT = dt.timedelta(days=1)
TEXT_SEARCH_MAX_DAYS = 31
# The searched columns joined by newlines, as governance migration 0014 indexes them: the filter must spell the
# expression exactly for PostgreSQL to use the index. A term without a newline cannot span two columns.
SEARCHED_COLUMNS = ("action", "resource", "explanation")
SEARCHED_SEPARATOR = "\n"
# pg_trgm takes trigrams from runs of letters and digits: a term without three in a row gives none to look up.
INDEXABLE_TERM = re.compile(r"[^\W_]{3}")


class _IdsField(forms.ModelMultipleChoiceField):
    """Ids checked for range before the query: `pk__in` with an id past 64 bits crashes the database driver."""

    def _check_values(self, value):
        for pk in value:
            if not (str(pk).isdigit() and 1 <= int(str(pk)) <= MAX_ID):
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": pk}
                )
        return super()._check_values(value)


class _IdsFilter(django_filters.ModelMultipleChoiceFilter):
    field_class = _IdsField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, distinct=False, **kwargs)  # a column of the decision: no duplicates to remove


class _IntegerFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class _UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 moment, in UTC: PostgreSQL refuses offsets beyond ±15:59, which ISO allows."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(dt.UTC)
        except OverflowError:
            raise forms.ValidationError("This moment is out of range.") from None


class _MomentFilter(django_filters.IsoDateTimeFilter):
    field_class = _UtcDateTimeField


class DecisionFilterForm(forms.Form):
    """The checks that read several filters at once."""

    def clean(self) -> dict:
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until") or timezone.now()
        if cleaned.get("q") and since and until - since > dt.timedelta(days=TEXT_SEARCH_MAX_DAYS):
            self.add_error(
                "q", f"Text search reads at most {TEXT_SEARCH_MAX_DAYS} days: bring 'since' and 'until' closer."
            )
        return cleaned


class DecisionFilterSet(django_filters.FilterSet):
    agent = _IdsFilter(queryset=Agent.objects.all(), help_text="Agent id; repeatable.")
    department = _IdsFilter(queryset=Department.objects.all(), help_text="Department id; repeatable.")
    action = django_filters.CharFilter(lookup_expr="exact")
    # Not DISTINCT (django-filter's default for multiple choices): that sorts every match before the first page
    verdict = django_filters.MultipleChoiceFilter(choices=Verdict.choices, distinct=False, help_text="Repeatable.")
    risk_min = _IntegerFilter(field_name="risk_score", lookup_expr="gte", min_value=0, max_value=100)
    risk_max = _IntegerFilter(field_name="risk_score", lookup_expr="lte", min_value=0, max_value=100)
    risk_band = django_filters.ChoiceFilter(
        choices=[(band, f"{band.capitalize()} ({low}–{high})") for band, (low, high) in RISK_BANDS.items()],
        method="filter_risk_band",
        help_text="low 0–24, moderate 25–49, high 50–74, critical 75–100.",
    )
    since = _MomentFilter(field_name="created_at", lookup_expr="gte", help_text="ISO 8601.")
    until = _MomentFilter(
        field_name="created_at", lookup_expr="lt", help_text="ISO 8601; decisions before this moment."
    )
    policy = _IntegerFilter(
        method="filter_policy", min_value=1, max_value=MAX_ID, help_text="Id of a policy that fired."
    )
    approval = django_filters.MultipleChoiceFilter(
        field_name="approval__status",
        choices=Approval.Status.choices,
        distinct=False,
        help_text="What became of the request a person was asked to decide; repeatable.",
    )
    overridden = django_filters.ChoiceFilter(
        choices=[("true", "Overridden"), ("false", "Not overridden")],
        method="filter_overridden",
        help_text="true: decisions a person overrode; false: the others.",
    )
    q = django_filters.CharFilter(
        method="filter_text",
        max_length=200,
        help_text=(
            "Text in the action, resource, explanation or agent name; searched within since..until (at most "
            f"{TEXT_SEARCH_MAX_DAYS} days), or the 24 hours before until."
        ),
    )

    class Meta:
        model = Decision
        form = DecisionFilterForm
        fields = [
            "agent",
            "department",
            "action",
            "verdict",
            "risk_min",
            "risk_max",
            "risk_band",
            "since",
            "until",
            "policy",
            "approval",
            "overridden",
            "q",
        ]

    def filter_risk_band(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(risk_score__range=RISK_BANDS[value])

    def filter_overridden(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(override__isnull=value != "true")

    def filter_policy(self, queryset: QuerySet, name: str, value) -> QuerySet:
        """Decisions whose matched_policies (a list of {"id": policy id, …}) name the policy."""
        policy_id = int(value)
        if connection.vendor == "postgresql":
            return queryset.filter(matched_policies__contains=[{"id": policy_id}])
        fired = RawSQL(
            "EXISTS (SELECT 1 FROM json_each(matched_policies) WHERE json_extract(value, '$.id') = %s)", (policy_id,)
        )
        return queryset.alias(fired=fired).filter(fired=True)

    def filter_text(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        since, _ = self.text_search_window()
        if not self.form.cleaned_data.get("since"):
            queryset = queryset.filter(created_at__gte=since)
        # Listed, not sub-selected: `agent_id IN (…)` can walk its index beside the trigram index (a BitmapOr)
        by_agent = Q(agent_id__in=list(Agent.objects.filter(name__icontains=value).values_list("pk", flat=True)))
        if connection.vendor == "postgresql" and INDEXABLE_TERM.search(value) and SEARCHED_SEPARATOR not in value:
            return queryset.filter(_searched_text_contains(value) | by_agent)
        return queryset.filter(
            Q(action__icontains=value) | Q(resource__icontains=value) | Q(explanation__icontains=value) | by_agent
        )

    def text_search_window(self) -> tuple[dt.datetime, dt.datetime]:
        """The moments a text search reads between, for the filter and for saying so on the page."""
        data = self.form.cleaned_data
        until = data.get("until") or timezone.now()
        return data.get("since") or until - TEXT_SEARCH_DEFAULT, until


def _searched_text_contains(value: str) -> Q:
    """`icontains` over the searched columns, as the trigram index can answer it: ILIKE on its expression."""
    table, quote = connection.ops.quote_name(Decision._meta.db_table), connection.ops.quote_name
    separator = " || E'\\n' || "
    searched = separator.join(f"{table}.{quote(column)}" for column in SEARCHED_COLUMNS)
    pattern = f"%{connection.ops.prep_for_like_query(value)}%"  # the term's own % and _ matched as themselves
    contains = RawSQL(f"({searched}) ILIKE %s", (pattern,), output_field=BooleanField())  # noqa: S611 (fixed names)
    return Q(contains)
