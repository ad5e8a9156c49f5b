"""Amounts as people read them: in a currency, in the organisation's locale.

Costs, spend and budgets are in the organisation's currency (settings.ORG_CURRENCY); an action's amount is
in the currency the agent gave. Every figure on a page, in the board pack or in a CSV header says which,
and amounts in different currencies are never added together.
"""

from decimal import Decimal

from babel.numbers import format_compact_currency, format_currency, get_currency_symbol
from django.conf import settings


def format_money(amount: Decimal | float | int | None, currency: str = "", *, whole: bool = False) -> str:
    """`1234.5` → "$1,234.50" in the organisation's currency unless another is named; "—" for no amount.

    `whole` rounds to the unit ("$1,235"), for tiles and charts where cents are noise.
    """
    if amount is None or amount == "":
        return "—"
    code = currency or settings.ORG_CURRENCY
    pattern = "¤#,##0" if whole else None
    return format_currency(
        Decimal(str(amount)), code, format=pattern, locale=settings.ORG_LOCALE, currency_digits=not whole
    )


def format_money_short(amount: Decimal | float | int | None, currency: str = "") -> str:
    """For a tile: whole units up to 100,000 ("$12,346"), then compact with the currency ("$1.2M")."""
    if amount is None or amount == "":
        return "—"
    if abs(amount) < 100_000:
        return format_money(amount, currency, whole=True)
    code = currency or settings.ORG_CURRENCY
    return format_compact_currency(Decimal(str(amount)), code, locale=settings.ORG_LOCALE, fraction_digits=1)


def currency_symbol(currency: str = "") -> str:
    """The symbol for a chart axis or a column header: "$", "€", "CHF"."""
    return get_currency_symbol(currency or settings.ORG_CURRENCY, locale=settings.ORG_LOCALE)


def unit_label(label: str, currency: str = "") -> str:
    """A heading with its currency, for CSV headers and chart axes: "Spend (USD)"."""
    return f"{label} ({currency or settings.ORG_CURRENCY})"
