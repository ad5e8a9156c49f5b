"""`{% load glossary %}`: business words for stored codes, and a term's definition one hover or tap away.

`{{ decision.verdict|verdict_label }}` → "Needs approval"; `{{ decision.action|action_label }}` → the
capability's description ("Execute a payment"); `{% define "spend" %}` → a "?" button whose definition shows
on hover, focus or tap and is its accessible description.
"""

from django import template
from django.utils.html import format_html

from dashboard import glossary

register = template.Library()


@register.filter
def verdict_label(code: str) -> str:
    return glossary.verdict_label(code or "")


@register.filter
def role_label(code: str) -> str:
    return glossary.role_label(code or "")


@register.filter
def event_label(kind: str) -> str:
    return glossary.event_label(kind or "")


@register.filter
def actor_label(actor: str) -> str:
    return glossary.actor_label(actor or "")


@register.filter
def action_label(code: str) -> str:
    return glossary.action_label(code or "")


@register.filter
def person_name(user) -> str:
    """A person's full name, else their username; an account since removed (decided_by is SET_NULL) still reads."""
    if user is None:
        return "a person no longer on record"
    return user.get_full_name() or user.get_username()


@register.simple_tag
def define(key: str, label: str = "") -> str:
    term = glossary.term(key)
    tip = f"define-{key}"
    return format_html(
        '<span class="define"><button type="button" class="define-button" aria-describedby="{}" '
        'aria-label="What “{}” means" data-testid="define-{}">?</button>'
        '<span role="tooltip" id="{}" class="define-tip">{}</span></span>',
        tip,
        label or term.label,
        key,
        tip,
        term.definition,
    )
