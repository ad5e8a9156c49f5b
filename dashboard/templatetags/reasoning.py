"""`{% load reasoning %}`: an agent's messages as indented JSON on a decision's page."""

import json

from django import template

register = template.Library()


@register.filter
def pretty_json(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False)
