"""`{% load money %}`: `{{ spend|money }}`, `{{ decision.amount|money:decision.currency }}`, `{{ x|money_whole }}`."""

from django import template

from dashboard.money import currency_symbol, format_money, format_token_cost

register = template.Library()


@register.filter
def money(amount, currency: str = "") -> str:
    return format_money(amount, currency)


@register.filter
def money_whole(amount, currency: str = "") -> str:
    return format_money(amount, currency, whole=True)


@register.simple_tag
def org_currency_symbol(currency: str = "") -> str:
    return currency_symbol(currency)


@register.filter
def token_cost(amount) -> str:
    return format_token_cost(amount)
