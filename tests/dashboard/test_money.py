"""Amounts carry their currency, written in the organisation's locale."""

from decimal import Decimal

from django.template import Context, Template

from dashboard.money import currency_symbol, format_money, unit_label


def test_an_amount_is_written_in_the_organisation_currency_by_default(settings):
    settings.ORG_CURRENCY, settings.ORG_LOCALE = "USD", "en_US"

    assert format_money(Decimal("1234.5")) == "$1,234.50"
    assert format_money(1234.5, whole=True) == "$1,234"
    assert unit_label("Spend") == "Spend (USD)"


def test_an_amount_in_another_currency_keeps_its_own(settings):
    settings.ORG_CURRENCY, settings.ORG_LOCALE = "USD", "en_US"

    assert format_money(Decimal("900"), "EUR") == "€900.00"
    assert format_money(12, "JPY") == "¥12"


def test_the_locale_decides_separators_and_symbol_position(settings):
    settings.ORG_CURRENCY, settings.ORG_LOCALE = "EUR", "de_DE"

    assert format_money(Decimal("1234.5")) == "1.234,50\xa0€"
    assert currency_symbol() == "€"


def test_no_amount_is_a_dash_not_zero():
    assert format_money(None) == "—"


def test_templates_format_through_the_money_filters(settings):
    settings.ORG_CURRENCY, settings.ORG_LOCALE = "GBP", "en_GB"
    template = Template("{% load money %}{{ spend|money }} | {{ amount|money:currency }} | {{ spend|money_whole }}")

    rendered = template.render(Context({"spend": Decimal("1500.25"), "amount": 80, "currency": "USD"}))

    assert rendered == "£1,500.25 | US$80.00 | £1,500"
