"""Masking at ingest: what matches a pattern never reaches the database.

Built in: e-mail addresses, phone numbers (international with a leading +, and North American), IBANs and card
numbers (13 to 19 digits passing the Luhn check, so an order number is left alone); plus the organisation's own
patterns (admin: Redaction patterns). Measured on the span benchmark, scanning is most of ingest's CPU, so a string
is scanned for e-mail only when it holds an "@", for the numbers (one alternation) only when it holds a digit, and
for the organisation's patterns (another) always.
"""

import re
from collections.abc import Callable

from traces.models import RedactionPattern

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# The built-in patterns that need a digit, one alternation: a string without a digit is not scanned by it.
NUMBERS = {
    "card": r"(?<![\w-])(?:\d[ -]?){12,18}\d(?![\w-])",
    "iban": r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b",
    "phone": r"(?<![\w+])(?:\+\d{1,3}[ .-]?(?:\(?\d{1,4}\)?[ .-]?){2,5}\d{2,4}|\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4})(?!\w)",
}
_DIGIT = re.compile(r"\d")

Masker = Callable[[str], str]


def _luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _alternation(patterns: dict[str, str]):
    """One regex for several patterns, and a replacement naming the one that matched ([name])."""
    names = list(patterns)
    combined = re.compile("|".join(f"(?P<_r{i}>{regex})" for i, regex in enumerate(patterns.values())))

    def replace(match: re.Match) -> str:
        name = names[int(match.lastgroup[2:])]
        if name == "card" and not _luhn(re.sub(r"\D", "", match.group())):
            return match.group()
        return f"[{name}]"

    return combined, replace


def masker(own: list[tuple[str, str]]) -> Masker:
    """A function masking the built-in patterns and the organisation's own ((name, regex) pairs)."""
    numbers, replace_number = _alternation(NUMBERS)
    theirs, replace_theirs = _alternation(dict(own)) if own else (None, None)

    def mask(text: str) -> str:
        if not text:
            return text
        if "@" in text:
            text = EMAIL.sub("[email]", text)
        if _DIGIT.search(text):
            text = numbers.sub(replace_number, text)
        if theirs is not None:
            text = theirs.sub(replace_theirs, text)
        return text

    return mask


def current_masker() -> Masker:
    """The masker for the patterns in force now (one query: they change in the admin at any time)."""
    return masker(list(RedactionPattern.objects.filter(active=True).values_list("name", "pattern")))
