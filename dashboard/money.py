"""Amounts as people read them: in a currency, in the organisation's locale.

Costs, spend and budgets are in the organisation's currency (settings.ORG_CURRENCY); an action's amount is
in the currency the agent gave. Every figure on a page, in the board pack or in a CSV header says which,
and amounts in different currencies are never added together.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
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


def format_token_cost(amount: Decimal | float | int | None) -> str:
    """A model call's token cost, in the organisation's currency: fractions of a cent kept ("$0.0042")."""
    if amount is None or amount == "":
        return "—"
    return format_currency(
        Decimal(str(amount)),
        settings.ORG_CURRENCY,
        format="¤#,##0.00####",
        locale=settings.ORG_LOCALE,
        currency_digits=False,
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


@dataclass(frozen=True)
class Amounts:
    """Money in several currencies, kept apart: the organisation's total, and each other currency beside it.

    Rollups sum spend per currency (a decision's amount is in the currency the agent gave); an amount with no
    currency is taken to be in the organisation's. `main` is the one figure budgets and comparisons use.
    """

    main: Decimal = Decimal("0")
    others: tuple[tuple[str, Decimal], ...] = field(default=())  # (ISO code, total), by code, none zero

    @classmethod
    def of(cls, sums: Iterable[tuple[str, Decimal | int]]) -> "Amounts":
        """From (currency, amount) pairs, as grouped rollup sums give them; repeated currencies are added."""
        org = settings.ORG_CURRENCY
        totals: dict[str, Decimal] = {}
        for currency, amount in sums:
            code = currency or org
            totals[code] = totals.get(code, Decimal("0")) + Decimal(str(amount or 0))
        main = totals.pop(org, Decimal("0"))
        return cls(main, tuple((code, total) for code, total in sorted(totals.items()) if total))

    @property
    def other_currencies(self) -> dict[str, Decimal]:
        return dict(self.others)

    def text(self, *, whole: bool = True) -> str:
        """ "$720 · plus €360.00 in EUR": the organisation's total first, other currencies beside it, never added."""
        others = in_other_currencies(self.other_currencies)
        return format_money(self.main, whole=whole) + (f" · {others}" if others else "")


def in_other_currencies(amounts: Mapping[str, Decimal]) -> str:
    """ "plus €360.00 in EUR and £12.50 in GBP", or "" when there is nothing in another currency."""
    listed = amounts_in_words(amounts)
    return f"plus {listed}" if listed else ""


def amounts_in_words(amounts: Mapping[str, Decimal]) -> str:
    """ "€360.00 in EUR and £12.50 in GBP": each currency's amount, by currency code, zeros left out."""
    parts = [f"{format_money(total, code)} in {code}" for code, total in sorted(amounts.items()) if total]
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]
