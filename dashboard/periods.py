"""The period and department filter every executive page takes from its URL, so a link can be shared."""

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from django import forms
from django.utils import timezone

from dashboard.models import DAY, HOUR
from orchestration.scoping import visible_departments

PERIOD_CHOICES = [
    ("24h", "Last 24 hours"),
    ("7d", "Last 7 days"),
    ("week", "Last 7 full days"),
    ("30d", "Last 30 days"),
    ("qtd", "Quarter to date"),
    ("custom", "Custom dates"),
]
MAX_CUSTOM_DAYS = 366


@dataclass(frozen=True)
class Period:
    """A half-open span [start, end) aligned to its grain's buckets (UTC hours or days)."""

    key: str
    start: dt.datetime
    end: dt.datetime
    grain: str

    @property
    def length(self) -> dt.timedelta:
        return self.end - self.start

    @property
    def step(self) -> dt.timedelta:
        return dt.timedelta(hours=1) if self.grain == HOUR else dt.timedelta(days=1)

    def previous(self) -> "Period":
        return Period(self.key, self.start - self.length, self.start, self.grain)

    def buckets(self) -> list[dt.datetime]:
        count = int(self.length / self.step)
        return [self.start + i * self.step for i in range(count)]

    @property
    def label(self) -> str:
        if self.grain == HOUR:
            return f"{self.start:%d %b %H:%M} – {self.end:%d %b %H:%M} UTC"
        return f"{self.start:%d %b %Y} – {(self.end - dt.timedelta(days=1)):%d %b %Y} (UTC days)"

    @property
    def last_day(self) -> dt.date:
        """The last UTC day the period covers (its end is exclusive): for file names and covers."""
        return (self.end - dt.timedelta(microseconds=1)).date()

    @property
    def days(self) -> float:
        return self.length / dt.timedelta(days=1)


def period_for(key: str, now: dt.datetime, start: dt.date | None = None, end: dt.date | None = None) -> Period:
    now = now.astimezone(dt.UTC)
    next_hour = now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    tomorrow = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    if key == "24h":
        return Period(key, next_hour - dt.timedelta(hours=24), next_hour, HOUR)
    if key in ("7d", "30d"):
        return Period(key, tomorrow - dt.timedelta(days=int(key[:-1])), tomorrow, DAY)
    if key == "week":  # complete days only, so that it compares like with like with the week before
        today = tomorrow - dt.timedelta(days=1)
        return Period(key, today - dt.timedelta(days=7), today, DAY)
    if key == "qtd":
        quarter_start = dt.date(now.year, 3 * ((now.month - 1) // 3) + 1, 1)
        return Period(key, dt.datetime.combine(quarter_start, dt.time(), tzinfo=dt.UTC), tomorrow, DAY)
    assert start is not None and end is not None
    return Period(
        key,
        dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC),
        DAY,
    )


class FilterForm(forms.Form):
    """`?period=7d&department=3&department=5` or `?period=custom&start=2026-01-01&end=2026-01-31`."""

    default_period = "24h"  # without `period` in the address

    period = forms.ChoiceField(choices=PERIOD_CHOICES, required=False)
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    department = forms.ModelMultipleChoiceField(
        queryset=None, required=False, label="Departments", widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, data, *, user, now: dt.datetime | None = None):
        if not (data or {}).get("period"):  # shown as chosen in the form, not only applied
            data = data.copy() if data is not None else {}
            data["period"] = self.default_period
        super().__init__(data)
        self.now = now or timezone.now()
        self.fields["department"].queryset = visible_departments(user)

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("period") != "custom":
            return cleaned
        start, end = cleaned.get("start"), cleaned.get("end")
        today = self.now.astimezone(dt.UTC).date()
        if start is None:
            self.add_error("start", "Give the first day of a custom period.")
        if end is None:
            self.add_error("end", "Give the last day of a custom period.")
        if start and end:
            if end < start:
                self.add_error("end", "The last day must not be before the first.")
            elif end > today:
                self.add_error("end", "The last day cannot be in the future.")
            elif (end - start).days + 1 > MAX_CUSTOM_DAYS:
                self.add_error("end", f"A custom period spans at most {MAX_CUSTOM_DAYS} days.")
        return cleaned

    def get_period(self) -> Period:
        data = self.cleaned_data
        return period_for(data.get("period") or self.default_period, self.now, data.get("start"), data.get("end"))

    def department_ids(self) -> list[int] | None:
        """The departments asked for, or None for every department the viewer may see."""
        chosen = self.cleaned_data.get("department")
        return sorted(d.pk for d in chosen) if chosen else None

    def query_string(self) -> str:
        """The filter as a URL query, to carry it across pages and into exports."""
        if not self.is_valid():
            return ""
        data = self.cleaned_data
        pairs = [("period", data.get("period") or self.default_period)]
        if data.get("period") == "custom":
            pairs += [("start", data["start"].isoformat()), ("end", data["end"].isoformat())]
        pairs += [("department", pk) for pk in self.department_ids() or []]
        return urlencode(pairs)


class BoardFilterForm(FilterForm):
    """The board report covers complete days by default: a board meets about the weeks behind it."""

    default_period = "week"
