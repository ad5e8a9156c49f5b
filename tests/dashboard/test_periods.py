"""The period and department filter taken from a page's URL."""

import datetime as dt

import pytest

from dashboard.periods import BoardFilterForm, FilterForm, period_for
from tests.support.clock import NOW

pytestmark = pytest.mark.django_db


def test_no_filter_means_the_last_24_hours_by_hour(alice):
    form = FilterForm({}, user=alice, now=NOW)

    assert form.is_valid()
    period = form.get_period()
    assert (period.grain, period.length) == ("hour", dt.timedelta(hours=24))
    assert period.end == NOW.replace(minute=0) + dt.timedelta(hours=1)
    assert form.department_ids() is None


def test_the_last_full_week_is_the_seven_complete_days_before_today_and_compares_with_the_seven_before():
    # Given 10 March, 14:30 UTC
    period = period_for("week", NOW)

    # Then the week is 3-9 March, whole days, and the week it is compared with is 24 February - 2 March
    assert (period.start.date(), period.last_day, period.grain) == (dt.date(2026, 3, 3), dt.date(2026, 3, 9), "day")
    previous = period.previous()
    assert (previous.start.date(), previous.last_day) == (dt.date(2026, 2, 24), dt.date(2026, 3, 2))


def test_the_board_report_covers_the_last_full_week_unless_asked_otherwise(alice):
    form = BoardFilterForm({}, user=alice, now=NOW)

    assert form.is_valid()
    assert form.get_period() == period_for("week", NOW)
    assert form["period"].value() == "week"  # shown chosen in the form
    assert form.query_string() == "period=week"


def test_quarter_to_date_starts_on_the_quarters_first_day():
    period = period_for("qtd", NOW)

    assert (period.start.date(), period.end.date(), period.grain) == (dt.date(2026, 1, 1), dt.date(2026, 3, 11), "day")


def test_the_previous_period_is_as_long_and_ends_where_this_one_starts():
    period = period_for("7d", NOW)

    previous = period.previous()

    assert (previous.end, previous.length) == (period.start, period.length)


def test_a_custom_period_spans_whole_days_inclusive(alice):
    form = FilterForm({"period": "custom", "start": "2026-03-01", "end": "2026-03-03"}, user=alice, now=NOW)

    assert form.is_valid()
    assert len(form.get_period().buckets()) == 3


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"period": "custom", "end": "2026-03-03"}, "start", "Give the first day of a custom period."),
        (
            {"period": "custom", "start": "2026-03-05", "end": "2026-03-03"},
            "end",
            "The last day must not be before the first.",
        ),
        (
            {"period": "custom", "start": "2026-03-05", "end": "2026-03-20"},
            "end",
            "The last day cannot be in the future.",
        ),
        (
            {"period": "custom", "start": "2024-01-01", "end": "2026-03-01"},
            "end",
            "A custom period spans at most 366 days.",
        ),
        ({"period": "fortnight"}, "period", "Select a valid choice. fortnight is not one of the available choices."),
    ],
)
def test_a_bad_filter_names_the_field_and_the_fix(alice, data, field, message):
    form = FilterForm(data, user=alice, now=NOW)

    assert not form.is_valid()
    assert form.errors[field] == [message]


def test_a_department_outside_the_viewers_scope_is_refused(bob, support):
    form = FilterForm({"department": [support.pk]}, user=bob, now=NOW)

    assert not form.is_valid()
    assert "department" in form.errors


def test_the_query_string_carries_the_filter(alice, finance):
    form = FilterForm(
        {"period": "custom", "start": "2026-03-01", "end": "2026-03-02", "department": [finance.pk]},
        user=alice,
        now=NOW,
    )

    assert form.is_valid()
    assert form.query_string() == f"period=custom&start=2026-03-01&end=2026-03-02&department={finance.pk}"
