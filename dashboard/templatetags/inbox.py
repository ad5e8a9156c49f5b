"""`{% load inbox %}`: `{{ approval.deadline|relative_deadline }}` → "in 3 h 10 min", "overdue by 5 min"."""

import datetime as dt

from django import template
from django.utils import timezone

from dashboard.inbox import relative_deadline as worded

register = template.Library()


@register.filter
def relative_deadline(deadline: dt.datetime) -> str:
    return worded(deadline, timezone.now())
