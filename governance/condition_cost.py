"""What a condition may cost: limits checked at save, and an estimate the engine checks on each request.

`common-expression-language` gives no syntax tree, no cost limit and no way to stop a program:
`Program.execute` holds the GIL until it returns, so a thread waiting on it with a timeout waits anyway
and every other request in the process with it. The bound is therefore put on what may run. This module
reads a condition's text (at most MAX_LENGTH characters, in one pass, its recursion bounded by
MAX_NESTING), refuses structures past the limits, and estimates evaluation steps as a polynomial in the
sizes of the request data the condition reads: at save with the sizes assumed (ASSUMED_SIZE), on each
request with the sizes measured. docs/policy-language.md gives the reason for each limit;
bench/condition_cost.py times conditions at the limit.
"""

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from governance.pattern_cost import pattern_steps

MAX_LENGTH = 2_000
MAX_NESTING = 8
MAX_MACRO_NESTING = 2
MAX_LITERAL_ITEMS = 100
MAX_STRING_LENGTH = 256
MAX_TERMS = 300
MAX_STEPS = 10_000
ASSUMED_SIZE = 20

MACROS = {"all", "exists", "exists_one", "map", "filter"}
# Steps are calibrated so that one is about 0.05 µs of `common-expression-language` on the project's VM
# (bench/condition_cost.py). Copying a value costs a step per value it holds (see size_of).
STRING_BYTES = 512


class CostError(ValueError):
    """A condition past a limit: what to change, and where (an index into the text) when there is a place."""

    def __init__(self, message: str, index: int | None = None):
        self.index = index
        super().__init__(message)


class ConditionTooCostly(RuntimeError):
    """Raised before a condition runs on a request whose data would make it cost more than MAX_STEPS."""


# Polynomials over the sizes of request data. A symbol is ("S", path), the number of values the data at
# `path` holds (nested values included), or ("E", path), the most any one of its elements holds. Every
# coefficient is positive, so a polynomial only grows with the sizes, and the coefficient-wise maximum of
# two is at least either.

Monomial = tuple[tuple[str, tuple[str, ...]], ...]


class Poly:
    __slots__ = ("terms",)

    def __init__(self, terms: dict[Monomial, float] | None = None):
        self.terms = terms or {}

    @classmethod
    def const(cls, value: float) -> "Poly":
        return cls({(): value}) if value else cls()

    @classmethod
    def symbol(cls, kind: str, path: tuple[str, ...]) -> "Poly":
        return cls({((kind, path),): 1.0})

    def __add__(self, other: "Poly | float") -> "Poly":
        other = other if isinstance(other, Poly) else Poly.const(other)
        terms = dict(self.terms)
        for monomial, coefficient in other.terms.items():
            terms[monomial] = terms.get(monomial, 0.0) + coefficient
        return Poly(terms)

    __radd__ = __add__

    def __mul__(self, other: "Poly | float") -> "Poly":
        if not isinstance(other, Poly):
            return Poly({m: c * other for m, c in self.terms.items()} if other else {})
        terms: dict[Monomial, float] = {}
        for m1, c1 in self.terms.items():
            for m2, c2 in other.terms.items():
                monomial = tuple(sorted(m1 + m2))
                terms[monomial] = terms.get(monomial, 0.0) + c1 * c2
        return Poly(terms)

    __rmul__ = __mul__

    def most(self, other: "Poly") -> "Poly":
        terms = dict(self.terms)
        for monomial, coefficient in other.terms.items():
            terms[monomial] = max(terms.get(monomial, 0.0), coefficient)
        return Poly(terms)

    def at(self, value_of: Callable[[tuple[str, tuple[str, ...]]], float]) -> float:
        return sum(c * math.prod(value_of(s) for s in m) for m, c in self.terms.items())

    def at_most(self, total: float) -> float:
        """The value when every size is `total`: a bound when no size can exceed it."""
        return sum(c * total ** len(m) for m, c in self.terms.items())


ZERO = Poly()


@dataclass(frozen=True)
class ConditionCost:
    """A condition's estimated steps as a polynomial in the sizes of what it reads, with the request
    variables holding those sizes and the largest total size of them that needs no closer look."""

    steps: Poly
    roots: frozenset[str]
    max_total: float
    assumed_steps: int

    def check(self, data: "RequestData") -> None:
        """Raise ConditionTooCostly when this request's data would make the condition cost past MAX_STEPS.
        Most requests pass on one comparison: the data the condition reads is within max_total."""
        if not self.roots or data.total(self.roots) <= self.max_total:
            return
        steps = math.ceil(self.steps.at(data.symbol))
        if steps > MAX_STEPS:
            raise ConditionTooCostly(
                f"on this request's data the condition would take about {steps:,} steps "
                f"(limit {MAX_STEPS:,}), so it was not run"
            )


class RequestData:
    """The request values conditions read, sized only when a condition's cost depends on them, once each."""

    def __init__(self, values: dict[str, object]):
        self._values = values
        self._sizes: dict[tuple[str, tuple[str, ...]], int] = {}
        self._totals: dict[frozenset[str], int] = {}
        self._roots: dict[str, int] = {}

    def total(self, roots: frozenset[str]) -> int:
        """The size of these request variables together; conditions reading the same ones share it."""
        total = self._totals.get(roots)
        if total is None:
            total = self._totals[roots] = sum(map(self._root, roots))
        return total

    def _root(self, name: str) -> int:
        size = self._roots.get(name)
        if size is None:
            size = self._roots[name] = size_of(self._values.get(name))
        return size

    def symbol(self, symbol: tuple[str, tuple[str, ...]]) -> int:
        size = self._sizes.get(symbol)
        if size is None:
            kind, path = symbol
            value = self._values.get(path[0])
            for key in path[1:]:
                value = value.get(key) if isinstance(value, dict) else None
            if kind == "S":
                size = size_of(value)
            else:  # a map's elements are its keys and its values
                elements = [*value, *value.values()] if isinstance(value, dict) else value
                size = max(map(size_of, elements), default=0) if isinstance(elements, list) else 0
            self._sizes[symbol] = size
        return size


def size_of(value: object) -> int:
    """How many values copying `value` copies (a string is one, and one more per STRING_BYTES; a map entry
    two): what reading it costs in this runtime. A loop, not recursion: request data may nest deeply."""
    size, pending = 0, [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is dict:
            size, children = size + 2 * len(item), item.values()
        elif kind is list or kind is tuple:
            size, children = size + len(item), item
        else:
            size += 1 + len(item) // STRING_BYTES if kind is str else 0
            continue
        for child in children:
            kind = type(child)
            if kind is str:
                size += 1 + len(child) // STRING_BYTES
            elif kind is dict or kind is list or kind is tuple:
                pending.append(child)
    return size


def assumed(symbol: tuple[str, tuple[str, ...]]) -> float:
    return ASSUMED_SIZE


# The text, as tokens.

_TOKEN = re.compile(
    r"""(?P<space>\s+|//[^\n]*)
    |(?P<string>(?:[rR][bB]?|[bB][rR])(?:\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|"[^"\n]*"|'[^'\n]*')
        |[bB]?(?:\"\"\"(?:\\[\s\S]|[^\\"]|"(?!""))*\"\"\"|'''(?:\\[\s\S]|[^\\']|'(?!''))*'''
        |"(?:\\[\s\S]|[^"\\\n])*"|'(?:\\[\s\S]|[^'\\\n])*'))
    |(?P<number>0[xX][0-9a-fA-F]+[uU]?|\d*\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+|\d+[uU]?)
    |(?P<ident>[A-Za-z_]\w*)
    |(?P<op>\|\||&&|==|!=|<=|>=|[-+*/%!<>?:.,()\[\]{}])""",
    re.VERBOSE,
)
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|[\s\S])")
_ESCAPED = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    index: int


def tokens(source: str) -> list[Token]:
    found, index = [], 0
    while index < len(source):
        match = _TOKEN.match(source, index)
        if match is None:
            raise CostError("Regent cannot read this character to estimate the condition's cost", index)
        if match.lastgroup != "space":
            found.append(Token(match.lastgroup, match.group(), index))
        index = match.end()
    found.append(Token("end", "", len(source)))
    return found


def string_value(text: str) -> str:
    prefix = text[: len(text) - len(text.lstrip("rRbB"))]
    body = text[len(prefix) :]
    quote = 3 if body[:3] in ('"""', "'''") else 1
    body = body[quote:-quote]
    if "r" in prefix.lower():
        return body
    return _ESCAPE.sub(lambda m: _unescape(m.group(1)), body)


def _unescape(escape: str) -> str:
    if len(escape) == 1:
        return _ESCAPED.get(escape, escape)
    code = int(escape[1:], 16) if escape[0] in "xuU" else int(escape, 8)
    return chr(code) if code < 0x110000 else "\ufffd"


# What reading a value costs, what it holds, and what each of its elements holds at most.


@dataclass(frozen=True, slots=True)
class Value:
    steps: Poly
    size: Poly = ZERO
    element: Poly = ZERO
    path: tuple[str, ...] | None = None  # a request variable and the keys selected from it
    before_read: Poly = ZERO  # the steps without copying the final value: what has() pays
    text: str | None = None  # the value of a string literal


@dataclass(frozen=True, slots=True)
class Costly:
    """A macro or a pattern outside any macro, for saying where a condition's steps go."""

    name: str
    index: int
    steps: Poly
    runs: float = 0.0


class Parser:
    """CEL's grammar, read once from left to right; each rule returns the Value of what it read."""

    RELATIONS = {"<", "<=", ">", ">=", "==", "!=", "in"}

    def __init__(self, source: str, variables: frozenset[str], scalars: frozenset[tuple[str, ...]]):
        self.tokens = tokens(source)
        self.variables, self.scalars = variables, scalars
        self.at = 0
        self.terms = 0
        self.macro_depth = 0
        self.scopes: list[dict[str, Value]] = []
        self.runs = Poly.const(1)  # how many times the macro being read runs its body, in all
        self.most_runs = 0.0  # the most any body inside the outermost macro being read runs, at assumed sizes
        self.costly: list[Costly] = []

    # Reading tokens.

    def peek(self, offset: int = 0) -> Token:
        return self.tokens[min(self.at + offset, len(self.tokens) - 1)]

    def take(self, text: str | None = None) -> Token:
        token = self.peek()
        if text is not None and token.text != text:
            raise CostError(f"Regent expected '{text}' here to estimate the condition's cost", token.index)
        self.at += 1
        return token

    def term(self, value: Value) -> Value:
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise CostError(
                f"The condition has more than {MAX_TERMS} terms; split it into several policies or use shorter lists"
            )
        return value

    # The grammar, loosest binding first.

    def condition(self) -> Value:
        value = self.expression(0)
        if self.peek().kind != "end":
            raise CostError("Regent cannot read the condition past this point to estimate its cost", self.peek().index)
        return value

    def expression(self, depth: int) -> Value:
        if depth > MAX_NESTING:
            raise CostError(
                f"Brackets, calls and macros nest more than {MAX_NESTING} deep here; flatten the condition "
                "or split it into several policies",
                self.peek().index,
            )
        test = self.logical("||", lambda: self.logical("&&", lambda: self.relation(depth)))
        if self.peek().text != "?":
            return test
        self.take("?")
        then = self.expression(depth + 1)
        self.take(":")
        otherwise = self.expression(depth + 1)
        return self.term(
            Value(
                test.steps + then.steps.most(otherwise.steps) + 1,
                then.size.most(otherwise.size),
                then.element.most(otherwise.element),
            )
        )

    def logical(self, operator: str, operand: Callable[[], Value]) -> Value:
        value = operand()
        while self.peek().text == operator:
            self.take()
            value = self.term(Value(value.steps + operand().steps + 1))
        return value

    def relation(self, depth: int) -> Value:
        value = self.addition(depth)
        while self.peek().text in self.RELATIONS:
            operator = self.take().text
            right = self.addition(depth)
            steps = value.steps + right.steps + 1
            if operator in ("==", "!="):
                steps = steps + value.size + right.size
            elif operator == "in":
                steps = steps + right.size
            value = self.term(Value(steps))
        return value

    def addition(self, depth: int) -> Value:
        value = self.multiplication(depth)
        while self.peek().text in ("+", "-"):
            operator = self.take().text
            right = self.multiplication(depth)
            if operator == "+":  # lists and strings are copied into the result
                value = Value(
                    value.steps + right.steps + value.size + right.size + 1,
                    value.size + right.size,
                    value.element.most(right.element),
                )
            else:
                value = Value(value.steps + right.steps + 1)
            self.term(value)
        return value

    def multiplication(self, depth: int) -> Value:
        value = self.unary(depth)
        while self.peek().text in ("*", "/", "%"):
            self.take()
            value = self.term(Value(value.steps + self.unary(depth).steps + 1))
        return value

    def unary(self, depth: int) -> Value:
        operators = 0
        while self.peek().text in ("!", "-"):
            self.take()
            operators += 1
        value = self.member(depth)
        for _ in range(operators):
            value = self.term(Value(value.steps + 1))
        return value

    def member(self, depth: int) -> Value:
        value = self.primary(depth)
        while self.peek().text in (".", "["):
            if self.take().text == "[":
                index = self.expression(depth + 1)
                self.take("]")
                value = self.term(Value(value.steps + index.steps + value.element + 1, value.element, value.element))
                continue
            name = self.take()
            if self.peek().text != "(":
                value = self.term(self.select(value, name.text))
            elif name.text in MACROS and self.peek(1).kind == "ident" and self.peek(2).text == ",":
                value = self.macro(value, name, depth)
            else:
                value = self.call(name, [value, *self.arguments(depth)])
        return value

    def select(self, base: Value, name: str) -> Value:
        if base.path is not None:
            path = (*base.path, name)
            read = base.before_read + self.read(base.path) if len(base.path) > 1 else ZERO
            return Value(read + self.read(path) + 1, *self.sizes(path), path=path, before_read=read)
        return Value(base.steps + base.element + 1, base.element, base.element, before_read=base.steps)

    def read(self, path: tuple[str, ...]) -> Poly:
        return self.sizes(path)[0]

    def sizes(self, path: tuple[str, ...]) -> tuple[Poly, Poly]:
        if path in self.scalars:
            return ZERO, ZERO
        return Poly.symbol("S", path), Poly.symbol("E", path)

    def arguments(self, depth: int) -> list[Value]:
        self.take("(")
        values = []
        while self.peek().text != ")":
            values.append(self.expression(depth + 1))
            if self.peek().text != ",":
                break
            self.take(",")
        self.take(")")
        return values

    def call(self, name: Token, arguments: list[Value]) -> Value:
        steps = sum((a.steps for a in arguments), ZERO) + 1
        if name.text == "matches":
            pattern = arguments[-1].text if len(arguments) == 2 else None
            if pattern is None:
                raise CostError(
                    "matches() needs its pattern written as a string literal, so that its cost is known at save",
                    name.index,
                )
            compiled = Poly.const(pattern_steps(pattern))
            steps = steps + compiled
            if self.macro_depth == 0:
                self.costly.append(Costly("matches", name.index, compiled))
        if name.text == "dyn" and len(arguments) == 1:
            return self.term(Value(steps, arguments[0].size, arguments[0].element))
        return self.term(Value(steps))

    def macro(self, receiver: Value, name: Token, depth: int) -> Value:
        if self.macro_depth >= MAX_MACRO_NESTING:
            raise CostError(
                f"{name.text}() is inside {self.macro_depth} other macros; all, exists, exists_one, map and "
                f"filter may nest at most {MAX_MACRO_NESTING} deep, since each level multiplies the steps of the "
                "ones inside it",
                name.index,
            )
        self.take("(")
        variable = self.take().text
        self.take(",")
        items = receiver.size
        outer_runs = self.runs
        self.runs = outer_runs * items
        if self.macro_depth == 0:
            self.most_runs = 0.0
        self.most_runs = max(self.most_runs, self.runs.at(assumed))
        self.macro_depth += 1
        self.scopes.append({variable: Value(receiver.element + 1, receiver.element, receiver.element)})
        body = [self.expression(depth + 1)]
        if name.text == "map" and self.peek().text == ",":
            self.take(",")
            body.append(self.expression(depth + 1))
        self.take(")")
        self.scopes.pop()
        self.macro_depth -= 1
        self.runs = outer_runs
        steps = receiver.steps + items * (sum((b.steps for b in body), ZERO) + 2) + 1
        result = Value(steps)
        if name.text == "map":  # the result list is copied on every step that adds to it
            produced = body[-1].size
            steps = steps + items * items * (produced + 1) * 0.5
            result = Value(steps, items * (produced + 1), produced)
        elif name.text == "filter":
            steps = steps + items * items * (receiver.element + 1) * 0.5
            result = Value(steps, receiver.size, receiver.element)
        if self.macro_depth == 0:
            self.costly.append(Costly(name.text, name.index, steps, self.most_runs))
        return self.term(result)

    def primary(self, depth: int) -> Value:
        token = self.take()
        if token.text == ".":
            token = self.take()
        if token.kind == "ident":
            if self.peek().text == "(":
                if token.text == "has":
                    self.take("(")
                    tested = self.expression(depth + 1)
                    self.take(")")
                    return self.term(Value(tested.before_read + 1))
                return self.call(token, self.arguments(depth))
            return self.name(token, depth)
        if token.text == "(":
            value = self.expression(depth + 1)
            self.take(")")
            return value
        if token.text == "[":
            return self.collection(token, "]", depth, entries=False)
        if token.text == "{":
            return self.collection(token, "}", depth, entries=True)
        if token.kind == "string":
            text = string_value(token.text)
            if len(text) > MAX_STRING_LENGTH:
                raise CostError(
                    f"A string of {len(text):,} characters; strings in a condition may be at most "
                    f"{MAX_STRING_LENGTH} long",
                    token.index,
                )
            return self.term(Value(Poly.const(1), Poly.const(1 + len(text) // STRING_BYTES), text=text))
        if token.kind == "number":
            return self.term(Value(Poly.const(1)))
        raise CostError("Regent cannot read the condition here to estimate its cost", token.index)

    def name(self, token: Token, depth: int) -> Value:
        for scope in reversed(self.scopes):
            if token.text in scope:
                return self.term(scope[token.text])
        if self.peek().text == "{":  # a message: Name{field: value}
            return self.collection(self.take(), "}", depth, entries=True)
        if token.text in self.variables:
            path = (token.text,)
            return self.term(Value(self.read(path) + 1, *self.sizes(path), path=path))
        return self.term(Value(Poly.const(1)))

    def collection(self, opening: Token, closing: str, depth: int, *, entries: bool) -> Value:
        steps, size, element, count = Poly.const(1), ZERO, ZERO, 0
        while self.peek().text != closing:
            parts = [self.expression(depth + 1)]
            if entries:
                self.take(":")
                parts.append(self.expression(depth + 1))
            count += 1
            if count > MAX_LITERAL_ITEMS:
                raise CostError(
                    f"A {'map' if entries else 'list'} of more than {MAX_LITERAL_ITEMS} "
                    f"{'entries' if entries else 'items'}; literals in a condition may hold at most "
                    f"{MAX_LITERAL_ITEMS}",
                    opening.index,
                )
            for part in parts:
                steps, size, element = steps + part.steps + 1, size + part.size + 1, element.most(part.size)
            if self.peek().text != ",":
                break
            self.take(",")
        self.take(closing)
        return self.term(Value(steps, size, element))


def check_length(source: str) -> None:
    """First, before anything reads the text: the runtime's parser and this one are linear in it."""
    if len(source) > MAX_LENGTH:
        raise CostError(
            f"The condition is {len(source):,} characters long; the limit is {MAX_LENGTH:,}: split it into "
            "several policies"
        )


def estimate(source: str, variables: frozenset[str], scalars: frozenset[tuple[str, ...]]) -> ConditionCost:
    """Check a condition the runtime has parsed against the limits and estimate its steps; raise CostError
    saying what to change. `variables` are the request's names; `scalars` the paths in them that never hold
    a list or a map (`("amount",)`, `("agent", "risk_tier")`)."""
    check_length(source)
    parser = Parser(source, variables, scalars)
    steps = parser.condition().steps
    assumed_steps = math.ceil(steps.at(assumed))
    if assumed_steps > MAX_STEPS:
        raise CostError(*_over_budget(assumed_steps, parser.costly))
    low, high = 0, 1 << 24  # the largest total size of the data read at which the steps stay within the limit
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if steps.at_most(middle) <= MAX_STEPS else (low, middle - 1)
    roots = frozenset(path[0] for monomial in steps.terms for _, path in monomial)
    return ConditionCost(steps, roots, low, assumed_steps)


def _over_budget(steps: int, costly: list[Costly]) -> tuple[str, int | None]:
    message = f"The condition would take about {steps:,} evaluation steps; the limit is {MAX_STEPS:,}"
    if not costly:
        return f"{message}: use fewer terms, or shorter lists and strings", None
    worst = max(costly, key=lambda c: c.steps.at(assumed))
    if worst.name == "matches":
        return (
            f"{message}, most of them compiling this matches() pattern, which the runtime does on every "
            r"evaluation: Unicode classes (\w, \d, \s, \p{…}, .) and counted repeats ({n}) cost most; write "
            "[A-Za-z0-9_] or [0-9] and repeat less",
            worst.index,
        )
    runs = f"{math.ceil(worst.runs):,} times"
    if any(worst.steps.terms.keys() - {()}):
        runs += f" (request lists counted as {ASSUMED_SIZE} items)"
    return (
        f"{message}, most of them in this {worst.name}(): a body in it runs up to {runs}; iterate over shorter "
        "lists or nest fewer macros",
        worst.index,
    )
