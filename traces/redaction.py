"""Masking at ingest: what matches a pattern never reaches the database.

Built in: e-mail addresses, phone numbers (international with a leading +, and North American), IBANs and card
numbers (13 to 19 digits passing the Luhn check, so an order number is left alone); plus the organisation's own
patterns (admin: Redaction patterns). All are one alternation, so each string is scanned once.
"""

import re
from collections.abc import Callable

from traces.models import RedactionPattern

BUILT_IN = {
    "card": r"(?<![\w-])(?:\d[ -]?){12,18}\d(?![\w-])",
    "iban": r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b",
    "email": r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+",
    "phone": r"(?<![\w+])(?:\+\d{1,3}[ .-]?(?:\(?\d{1,4}\)?[ .-]?){2,5}\d{2,4}|\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4})(?!\w)",
}

Masker = Callable[[str], str]


def _luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def masker(own: list[tuple[str, str]]) -> Masker:
    """A function masking the built-in patterns and the organisation's own ((name, regex) pairs)."""
    names = [*BUILT_IN, *(name for name, _ in own)]
    alternatives = [*BUILT_IN.values(), *(regex for _, regex in own)]
    combined = re.compile("|".join(f"(?P<p{i}>{regex})" for i, regex in enumerate(alternatives)))

    def replace(match: re.Match) -> str:
        name = names[int(match.lastgroup[1:])]
        if name == "card":
            digits = re.sub(r"\D", "", match.group())
            if not _luhn(digits):
                return match.group()
        return f"[{name}]"

    def mask(text: str) -> str:
        return combined.sub(replace, text) if text else text

    return mask


def current_masker() -> Masker:
    """The masker for the patterns in force now (one query: they change in the admin at any time)."""
    return masker(list(RedactionPattern.objects.filter(active=True).values_list("name", "pattern")))
