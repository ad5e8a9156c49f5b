"""Deliveries leave the database: beat deletes those delivered or failed NOTIFY_RETENTION_DAYS after they were
written, and keeps every pending one, however old, and every younger one."""

import datetime as dt

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from config.celery import app as celery_app
from notifications.models import Delivery
from notifications.tasks import forget_old_notifications

pytestmark = pytest.mark.django_db


@pytest.fixture
def written(bob):
    """Make a delivery to Bob with `status`, written `days_ago` days ago."""

    def make(status: str, days_ago: float) -> Delivery:
        delivery = Delivery.objects.create(
            recipient=bob,
            channel="slack",
            key=f"{status}-{days_ago}",
            kind="alert.fired",
            severity="warning",
            subject="s",
            text="t",
            status=status,
        )
        Delivery.objects.filter(pk=delivery.pk).update(created_at=timezone.now() - dt.timedelta(days=days_ago))
        return delivery

    return make


def test_deliveries_done_before_the_period_are_deleted_and_the_rest_kept(written):
    # Given deliveries delivered and failed just past the 90 days and just within them, and a pending one of a year
    old_delivered, old_failed = written("delivered", 90.1), written("failed", 91)
    recent_delivered, recent_failed = written("delivered", 89.9), written("failed", 3)
    still_pending = written("pending", 365)

    # When beat's task runs
    forgotten = forget_old_notifications()

    # Then only the two old and done ones are gone
    assert forgotten == 2
    kept = set(Delivery.objects.values_list("pk", flat=True))
    assert kept == {recent_delivered.pk, recent_failed.pk, still_pending.pk}
    assert not kept & {old_delivered.pk, old_failed.pk}


def test_the_period_is_a_setting(written, settings):
    # Given a deployment that keeps deliveries 7 days
    settings.NOTIFY_RETENTION_DAYS = 7
    week_old, day_old = written("delivered", 8), written("delivered", 1)

    # When beat's task runs
    forget_old_notifications()

    # Then the one past a week is gone
    assert list(Delivery.objects.values_list("pk", flat=True)) == [day_old.pk]
    assert not Delivery.objects.filter(pk=week_old.pk).exists()


def test_a_second_run_deletes_nothing_more(written):
    written("failed", 120)
    assert forget_old_notifications() == 1
    assert forget_old_notifications() == 0


def test_beat_runs_it_hourly():
    entry = django_settings.CELERY_BEAT_SCHEDULE["forget-old-notifications"]
    assert entry == {"task": "notifications.tasks.forget_old_notifications", "schedule": 3600}
    assert entry["task"] in celery_app.tasks
