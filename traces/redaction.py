"""Masking at ingest: what matches a pattern never reaches the database.

Built in: e-mail addresses, phone numbers (international with a leading +, and North American), IBANs and card
numbers (13 to 19 digits passing the Luhn check, so an order number is left alone); plus the organisation's own
patterns (admin: Redaction patterns). Measured on the span benchmark, scanning is most of ingest's CPU, so a string
is scanned for e-mail only when it holds an "@", for the numbers (one alternation) only when it holds at least
MIN_DIGITS digits (counted in C by str.translate), each only in the region where its characters are (found by
str.find), and for the organisation's patterns (another) everywhere.
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
MIN_DIGITS = 7  # each number pattern needs at least this many digits (a phone number, an IBAN, a card has more)
_DIGITS = "0123456789"
_WITHOUT_DIGITS = str.maketrans("", "", _DIGITS)
# An address's parts at their longest (RFC 5321): only this much around the first and last "@" is scanned.
EMAIL_LOCAL_MAX, EMAIL_DOMAIN_MAX = 64, 256

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
            start, end = max(text.find("@") - EMAIL_LOCAL_MAX, 0), text.rfind("@") + EMAIL_DOMAIN_MAX
            text = text[:start] + EMAIL.sub("[email]", text[start:end]) + text[end:]
        if len(text) - len(text.translate(_WITHOUT_DIGITS)) >= MIN_DIGITS:
            start, end = _digit_region(text)
            text = text[:start] + numbers.sub(replace_number, text[start:end]) + text[end:]
        if theirs is not None:
            text = theirs.sub(replace_theirs, text)
        return text

    return mask


def _digit_region(text: str) -> tuple[int, int]:
    """From a little before the first digit (an IBAN's country, a phone's + or parenthesis) to after the last."""
    first = min(i for i in map(text.find, _DIGITS) if i >= 0)
    last = max(map(text.rfind, _DIGITS))
    return max(first - 4, 0), last + 1


def current_masker() -> Masker:
    """The masker for the patterns in force now (one query: they change in the admin at any time)."""
    return masker(list(RedactionPattern.objects.filter(active=True).values_list("name", "pattern")))
