"""Masking at ingest: what matches a pattern never reaches the database.

Built in: e-mail addresses, phone numbers (international with a leading +, and North American), IBANs and card
numbers (13 to 19 digits passing the Luhn check, so an order number is left alone); plus the organisation's own
patterns (admin: Redaction patterns). Measured on the span benchmark, scanning is most of ingest's CPU: the built-in
patterns, tried at every position, cost about 1 µs a character. So e-mail addresses are read outward from each "@";
the numbers (one alternation) are scanned for only in a string holding at least MIN_DIGITS digits, and there only
near the runs of digits that could be one (_number_windows: it masks exactly what a whole scan masks); the
organisation's patterns (another alternation) everywhere.
"""

import re
from collections.abc import Callable

# An address, as masked (_mask_emails reads them without scanning the text with this).
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# The built-in patterns that need a digit, one alternation: a string without a digit is not scanned by it.
NUMBERS = {
    "card": r"(?<![\w-])(?:\d[ -]?){12,18}\d(?![\w-])",
    "iban": r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b",
    "phone": r"(?<![\w+])(?:\+\d{1,3}[ .-]?(?:\(?\d{1,4}\)?[ .-]?){2,5}\d{2,4}|\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4})(?!\w)",
}
MIN_DIGITS = 7  # each number pattern needs at least this many digits (a phone number, an IBAN, a card has more)
# The longest a number match can be, its context (a look-behind, \b) included: a phone number, 44 characters.
NUMBER_REACH = 45
CHAIN_GAP = 3  # characters between two runs of digits in one number at most: ")-(" in a phone number
_DIGIT_RUN = re.compile(r"\d+")
_SHAPE = bytes(48 if 48 <= byte <= 57 else 65 if 65 <= byte <= 90 else 32 for byte in range(256))
# Runs of digits at most CHAIN_GAP apart holding 5 digits or more: fewer is no number (5 after a "+" at the least).
_CHAIN = re.compile(rb"0(?:[ A]{0,%d}0){4,}" % CHAIN_GAP)
# Read backwards from an "@": an address's local part (at most 64 characters by RFC 5321, read 4 times as far).
_LOCAL_PART = re.compile(r"[\w.+-]+")
LOCAL_PART_MAX = 256
_DOMAIN = re.compile(r"@[\w-]+(?:\.[\w-]+)+")

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
            text = _mask_emails(text)
        windows = _number_windows(text)
        if windows:
            parts, done = [], 0
            for start, end in windows:
                parts += (text[done:start], numbers.sub(replace_number, text[start:end]))
                done = end
            parts.append(text[done:])
            text = "".join(parts)
        if theirs is not None:
            text = theirs.sub(replace_theirs, text)
        return text

    return mask


def _mask_emails(text: str) -> str:
    """EMAIL's addresses masked, read from each "@" (its local part backwards, at most LOCAL_PART_MAX characters,
    then its domain) instead of scanning the text with EMAIL, which tries a match at every position. It masks what
    that scan masks, and an address right after another's domain that the scan's look-behind lets through."""
    parts, done, at = [], 0, text.find("@")
    while at >= 0:
        local = _LOCAL_PART.match(text[max(done, at - LOCAL_PART_MAX) : at][::-1])
        domain = _DOMAIN.match(text, at) if local else None
        if domain:
            parts += (text[done : at - local.end()], "[email]")
            done = domain.end()
        at = text.find("@", max(at + 1, done))
    parts.append(text[done:])
    return "".join(parts)


def _number_windows(text: str) -> list[tuple[int, int]]:
    """Where a number can be, as (start, end) pieces of the text; none when it holds fewer than MIN_DIGITS digits.

    A card's or a phone number's digits are runs at most CHAIN_GAP characters apart, at least 10 of them, or 5 after
    a "+"; an IBAN's begin with two capitals. Only runs like that can be in a match, every match is within
    NUMBER_REACH characters of each of its digits, so scanning this much around them masks exactly what scanning the
    whole text would (tests/traces/test_redaction.py compares the two)."""
    candidates = _ascii_candidates(text) if text.isascii() else _candidates(text)
    candidates.sort()
    windows: list[tuple[int, int]] = []
    for start, end in candidates:
        start, end = max(start - NUMBER_REACH, 0), min(end + NUMBER_REACH, len(text))
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(end, windows[-1][1]))
        else:
            windows.append((start, end))
    return windows


def _ascii_candidates(text: str) -> list[tuple[int, int]]:
    """The candidates found in the text's shape (bytes: "0" a digit, "A" a capital, " " the rest), where C does the
    scanning that a regex over the text or a loop in Python takes ten times longer to."""
    shape = text.encode("ascii").translate(_SHAPE)
    if shape.count(48) < MIN_DIGITS:
        return []
    candidates = []
    for chain in _CHAIN.finditer(shape):
        start, end = chain.span()
        digits = shape.count(48, start, end)
        if digits >= 10 or (digits >= 5 and "+" in text[max(start - 1, 0) : end]):
            candidates.append((start, end))
    iban = shape.find(b"AA00")
    while iban >= 0:
        candidates.append((iban + 2, iban + 4))
        iban = shape.find(b"AA00", iban + 1)
    return candidates


def _candidates(text: str) -> list[tuple[int, int]]:
    """The same for a text beyond ASCII, where \\d also matches other scripts' digits."""
    runs = [match.span() for match in _DIGIT_RUN.finditer(text)]
    if sum(end - start for start, end in runs) < MIN_DIGITS:
        return []
    candidates = [(start, end) for start, end in runs if end - start >= 2 and _two_capitals_before(text, start)]
    first = 0
    for i in range(1, len(runs) + 1):
        if i == len(runs) or runs[i][0] - runs[i - 1][1] > CHAIN_GAP:
            chain = runs[first:i]
            digits = sum(end - start for start, end in chain)
            if digits >= 10 or (digits >= 5 and any(text[start - 1 : start] == "+" for start, _ in chain)):
                candidates.append((chain[0][0], chain[-1][1]))
            first = i
    return candidates


def _two_capitals_before(text: str, start: int) -> bool:
    return start >= 2 and "A" <= text[start - 2] <= "Z" and "A" <= text[start - 1] <= "Z"
