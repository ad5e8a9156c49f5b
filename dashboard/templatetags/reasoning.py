"""`{% load reasoning %}`: an agent's messages, stored as the JSON text it sent, indented on a decision's page."""

import json

from django import template

register = template.Library()


@register.filter
def pretty_json(text: str) -> str:
    """The text indented when it is JSON, as it is otherwise (an agent may send plain text, or JSON cut short)."""
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text
