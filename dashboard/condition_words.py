"""A policy's CEL condition in words, for the read-only Policies page: `amount > 10000.0` → "the amount is more than
10,000 EUR", `action == "payment.execute"` → "the action is “Execute a payment”".

A small parser for the part of CEL policies are written in (names, comparisons, `&&`, `||`, `!`, arithmetic,
`has()`, `in` lists, the engine's functions and `now.getHours()`). Anything else (macros such as `exists`, other
methods) is not guessed at: `in_words` answers None and the page says "when its condition holds", the
condition as written one click away.
"""

import re
from dataclasses import dataclass

from django.conf import settings

from dashboard.glossary import action_label

TOKEN = re.compile(
    r"\s*(?:(?P<number>\d+(?:\.\d+)?)|(?P<string>\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')"
    r"|(?P<op>&&|\|\||==|!=|<=|>=|[<>!()\[\],.+\-*/%])|(?P<name>[A-Za-z_][A-Za-z0-9_]*))"
)
COMPARISONS = {
    ">": "is more than",
    ">=": "is at least",
    "<": "is less than",
    "<=": "is at most",
    "==": "is",
    "!=": "is not",
}
ARITHMETIC = {"+": "plus", "-": "minus", "*": "times", "/": "divided by", "%": "modulo"}
FUNCTIONS = {
    "agent_spend_month": "the agent's spend this month",
    "department_spend_month": "the department's spend this month",
    "agent_actions_last_hour": "the agent's actions in the last hour",
}
OWNERS = {"agent": "the agent's", "department": "the department's", "context": "the request's"}
NAMES = {
    "amount": "the amount",
    "action": "the action",
    "resource": "the resource",
    "currency": "the currency",
    "data_classes": "the request's data classes",
}
MONEY_WORDS = ("amount", "spend", "budget", "value")


class Unsupported(Exception):
    """The condition uses CEL this module does not put in words."""


@dataclass(frozen=True)
class Phrase:
    words: str
    money: bool = False  # an amount of money: numbers compared with it are in the organisation's currency
    action: bool = False  # the action: strings compared with it are capability codes
    logic: str = ""  # "and" / "or" when the phrase joins conditions (bracketed inside the other)
    condition: bool = False  # a test (true or false), not a value
    items: tuple["Phrase", ...] = ()  # a list's items


def in_words(condition: str) -> str | None:
    """The condition as a phrase to follow "when", or None when it is empty or beyond the words this module has."""
    if not condition.strip():
        return None
    try:
        parser = _Parser(_tokens(condition))
        phrase = parser.expression()
        if parser.peek() is not None:
            raise Unsupported(parser.peek())
    except (Unsupported, IndexError):
        return None
    return phrase.words if phrase.condition else f"{phrase.words} is yes"


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.rstrip()
    while position < len(text):
        match = TOKEN.match(text, position)
        if not match or match.end() == position:
            raise Unsupported(text[position:])
        kind = match.lastgroup
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]):
        self.tokens, self.at = tokens, 0

    def peek(self) -> str | None:
        return self.tokens[self.at][1] if self.at < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        token = self.tokens[self.at]
        if expected is not None and token[1] != expected:
            raise Unsupported(token[1])
        self.at += 1
        return token

    def expression(self) -> Phrase:
        return self._joined("||", "or", self._and)

    def _and(self) -> Phrase:
        return self._joined("&&", "and", self._comparison)

    def _joined(self, operator: str, word: str, part) -> Phrase:
        parts = [part()]
        while self.peek() == operator:
            self.take()
            parts.append(part())
        if len(parts) == 1:
            return parts[0]
        words = [f"({p.words})" if p.logic and p.logic != word else p.words for p in parts]
        return Phrase(f"{', '.join(words[:-1])} {word} {words[-1]}", logic=word, condition=True)

    def _comparison(self) -> Phrase:
        left = self._sum()
        operator = self.peek()
        if operator == "in":
            self.take()
            right = self._sum()
            items = [_typed(item, left).words for item in right.items] or [right.words]
            return Phrase(f"{left.words} is one of {_join(items, 'or')}", condition=True)
        if operator not in COMPARISONS:
            return left
        self.take()
        right = self._sum()
        left, right = _typed(left, right), _typed(right, left)
        if right.words == "true" and operator in ("==", "!="):
            return Phrase(f"{left.words} is {'yes' if operator == '==' else 'no'}", condition=True)
        return Phrase(f"{left.words} {COMPARISONS[operator]} {right.words}", condition=True)

    def _sum(self) -> Phrase:
        left = self._product()
        while self.peek() in ("+", "-"):
            operator = self.take()[1]
            right = self._product()
            left = Phrase(f"{left.words} {ARITHMETIC[operator]} {right.words}", money=left.money or right.money)
        return left

    def _product(self) -> Phrase:
        left = self._unary()
        while self.peek() in ("*", "/", "%"):
            operator = self.take()[1]
            right = self._unary()
            if operator == "*" and _fraction(right.words) is not None:
                left = Phrase(f"{_fraction(right.words)} of {left.words}", money=left.money)
            else:
                left = Phrase(f"{left.words} {ARITHMETIC[operator]} {right.words}", money=left.money)
        return left

    def _unary(self) -> Phrase:
        if self.peek() == "!":
            self.take()
            inner = self._unary()
            if inner.words.startswith("the request includes "):
                return Phrase(inner.words.replace(" includes ", " does not include ", 1), condition=True)
            if not inner.condition:
                return Phrase(f"{inner.words} is no", condition=True)
            return Phrase(f"not ({inner.words})", condition=True)
        if self.peek() == "-":
            self.take()
            inner = self._unary()
            return Phrase(f"minus {inner.words}", money=inner.money)
        return self._primary()

    def _primary(self) -> Phrase:
        kind, value = self.take()
        if value == "(":
            inner = self.expression()
            self.take(")")
            return inner
        if value == "[":
            items = []
            while self.peek() != "]":
                items.append(self.expression())
                if self.peek() == ",":
                    self.take()
            self.take("]")
            return Phrase(_join([item.words for item in items]) or "nothing", items=tuple(items))
        if kind == "number":
            return Phrase(value)
        if kind == "string":
            return Phrase(bytes(value[1:-1], "utf-8").decode("unicode_escape"), action=True)
        if kind != "name":
            raise Unsupported(value)
        if value in ("true", "false"):
            return Phrase(value)
        if value == "has":
            self.take("(")
            field = self._path()
            self.take(")")
            return Phrase("the request includes " + field.words.removeprefix("the request's "), condition=True)
        if value in FUNCTIONS:
            self.take("(")
            self.take(")")
            return Phrase(FUNCTIONS[value], money="spend" in value)
        self.at -= 1
        return self._path()

    def _path(self) -> Phrase:
        _, name = self.take()
        if name == "now" and self.peek() == ".":
            self.take()
            method = self.take()[1]
            self.take("(")
            self.take(")")
            if method == "getHours":
                return Phrase("the hour (UTC)")
            if method == "getDayOfWeek":
                return Phrase("the day of the week (0 is Sunday)")
            raise Unsupported(method)
        if name in OWNERS:
            if self.peek() != ".":
                raise Unsupported(name)
            self.take()
            field = self.take()[1]
            if self.peek() in (".", "("):
                raise Unsupported(field)  # a method or a deeper field: a macro or more than this module says
            words = field.replace("_", " ")
            return Phrase(f"{OWNERS[name]} {words}", money=any(w in field for w in MONEY_WORDS))
        if name in NAMES and self.peek() not in (".", "("):
            return Phrase(NAMES[name], money=name == "amount", action=name == "action")
        raise Unsupported(name)


def _typed(phrase: Phrase, other: Phrase) -> Phrase:
    """A literal in the words of what it is compared with: money with its currency, an action by its name."""
    if re.fullmatch(r"\d+(\.\d+)?", phrase.words) and other.money:
        number = float(phrase.words)
        shown = f"{number:,.0f}" if number == int(number) else f"{number:,.2f}"
        return Phrase(f"{shown} {settings.ORG_CURRENCY}")
    if phrase.action and other.action and other.words == "the action":
        return Phrase(f"“{action_label(phrase.words)}”")
    if phrase.action and not other.action:
        return Phrase(f"“{phrase.words}”")
    return phrase


def _join(words: list[str], last: str = "and") -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {last} {words[-1]}"


def _fraction(words: str) -> str | None:
    """`0.9` → "90%": `budget * 0.9` reads as "90% of the budget"."""
    if re.fullmatch(r"0\.\d+", words):
        return f"{float(words) * 100:g}%"
    return None
