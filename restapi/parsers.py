"""JSON bodies as the database can store them: finite numbers, nested at most MAX_DEPTH levels.

Python's json reads NaN, Infinity and numbers beyond ±1.8e308 (as inf), which PostgreSQL's JSON refuses,
and recurses once per level, so a body nested thousands deep would end in RecursionError. Both are
refused here, for every endpoint, as field errors (400) before any serializer sees the body. The
nesting is counted on the text, without recursion, before json reads it.

Bodies larger than DATA_UPLOAD_MAX_MEMORY_SIZE never reach a parser: Django refuses them when DRF
reads `request.body`, and `restapi.errors.handle_exception` answers 413.
"""

import json
import math
import re
from itertools import accumulate

from django.conf import settings
from rest_framework import exceptions
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32  # levels of objects and lists, the body itself being the first
NOT_FINITE = "Numbers must be finite: NaN, Infinity and numbers beyond ±1.8e308 cannot be stored."
TOO_DEEP = f"Objects and lists may be nested at most {MAX_DEPTH} levels deep (the body is the first)."

_STRING = r'"[^"\\]*(?:\\.[^"\\]*)*"'
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
_TOKENS = re.compile(rf"{_STRING}|[\[\]{{}}]", re.DOTALL)
_LEVEL_CHANGE = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


class NotFinite:
    """Stands in, while a body is read, for a number JSON cannot store."""


def nesting_errors(text: str) -> dict | list | None:
    """The field error for a body nested deeper than MAX_DEPTH, under the member of the body's object that
    is; None when it is not. Counted on the text, without recursion: over all brackets first (in its UTF-8
    bytes, where no other character has their bytes: cheap, and exact unless strings hold brackets), then,
    only if that says too deep, token by token past strings."""
    brackets = text.encode("utf-8", "surrogatepass").translate(None, _NOT_BRACKETS)
    if max(accumulate(map(_LEVEL_CHANGE.__getitem__, brackets)), default=0) <= MAX_DEPTH:
        return None
    depth, member, in_object = 0, None, text.lstrip().startswith("{")
    for token in _TOKENS.finditer(text):
        symbol = token.group()
        if symbol in ("[", "{"):
            depth += 1
            if depth > MAX_DEPTH:
                return {member: [TOO_DEEP]} if member is not None else [TOO_DEEP]
        elif symbol in ("]", "}"):
            depth -= 1
        elif depth == 1 and in_object:
            member = member_name(symbol)  # the last name at the body's level before a value opens is its name
    return None


def member_name(token: str) -> str | None:
    try:
        return printable(json.loads(token))
    except ValueError:
        return None


def printable(name: str) -> str:
    """A member's name as an error may show it: unpaired surrogates cannot be written out as UTF-8."""
    return name.encode("utf-8", "backslashreplace").decode()


def not_finite_errors(value) -> dict | list | None:
    """Field errors at each number that could not be stored, nested as the body is (list items by index)."""
    if isinstance(value, NotFinite):
        return [NOT_FINITE]
    if isinstance(value, dict):
        members = value.items()
    elif isinstance(value, list):
        members = ((str(index), item) for index, item in enumerate(value))
    else:
        return None
    errors = {printable(name): problem for name, item in members if (problem := not_finite_errors(item))}
    return errors or None


def storable_data(text: str):
    """The body's data, read with every number JSON cannot store standing as a NotFinite; a field error
    at each of those."""
    found: list[str] = []

    def not_finite(literal: str) -> NotFinite:
        found.append(literal)
        return NotFinite()

    def number(literal: str) -> float | NotFinite:
        value = float(literal)
        return value if math.isfinite(value) else not_finite(literal)

    data = json.loads(text, parse_float=number, parse_constant=not_finite)
    if found:
        errors = not_finite_errors(data)
        raise exceptions.ValidationError(errors if isinstance(errors, dict) else [NOT_FINITE])
    return data


class StorableJSONParser(JSONParser):
    """JSON as the database can store it, for every endpoint: the limits are in the module's docstring."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding)
            too_deep = nesting_errors(text)
            if too_deep:
                raise exceptions.ValidationError(too_deep)
            return storable_data(text)
        except ValueError as exc:  # not UTF-8, not JSON, or an integer of more than 4,300 digits
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
