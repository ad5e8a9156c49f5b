"""CEL conditions: compiled once, checked at save against the names the engine provides and the cost limits.

Uses `common-expression-language` (Rust core): it reports parse errors with their position and
lists the names a program references, which lets the engine compute stateful inputs only for
conditions that use them. It cannot be stopped once a program runs, so `governance.condition_cost`
bounds what may run: at save, before the condition is first evaluated, and on each request.
"""

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

import cel

from governance.condition_cost import ConditionCost, CostError, RequestData, check_length, estimate

REQUEST_VARIABLES = {
    "agent",
    "department",
    "action",
    "resource",
    "amount",
    "currency",
    "data_classes",
    "context",
    "now",
}
AGENT_ATTRIBUTES = {
    "slug",
    "name",
    "risk_tier",
    "monthly_budget",
    "department",
    "capabilities",
    "provider",
    "provider_kind",
    "model",
    "status",
}
DEPARTMENT_ATTRIBUTES = {"slug", "name", "monthly_budget", "risk_appetite", "status"}
SCALARS = frozenset(
    {(name,) for name in ("action", "resource", "amount", "currency", "now")}
    | {("agent", name) for name in AGENT_ATTRIBUTES - {"capabilities"}}
    | {("department", name) for name in DEPARTMENT_ATTRIBUTES}
)
STATEFUL_FUNCTIONS = {"agent_spend_month", "department_spend_month", "agent_actions_last_hour"}
CEL_FUNCTIONS = {
    "size",
    "contains",
    "startsWith",
    "endsWith",
    "matches",
    "int",
    "uint",
    "double",
    "string",
    "bool",
    "bytes",
    "timestamp",
    "duration",
    "type",
    "dyn",
    "has",
    "all",
    "exists",
    "exists_one",
    "map",
    "filter",
    "getFullYear",
    "getMonth",
    "getDate",
    "getDayOfMonth",
    "getDayOfWeek",
    "getDayOfYear",
    "getHours",
    "getMinutes",
    "getSeconds",
    "getMilliseconds",
    "max",
    "min",
    "lowerAscii",
    "upperAscii",
    "trim",
    "replace",
    "split",
    "join",
    "indexOf",
    "lastIndexOf",
    "substring",
    "charAt",
    "abs",
    "ceil",
    "floor",
    "round",
    "sign",
    "isNaN",
    "isInf",
}
_MACRO_BINDING = re.compile(r"\.\s*(?:all|exists|exists_one|map|filter)\s*\(\s*([A-Za-z_]\w*)\s*,")
_ATTRIBUTE = re.compile(r"(?<![\w.])(agent|department)\s*\.\s*([A-Za-z_]\w*)")
_STRING_LITERAL = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_POSITION = re.compile(r"<input>:(\d+):(\d+)")


class ConditionError(ValueError):
    """A condition that cannot be stored, with where the problem is when known."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        self.line, self.column = line, column
        where = f" (line {line}, column {column})" if line is not None else ""
        super().__init__(f"{message}{where}")


class ConditionRefused(RuntimeError):
    """A stored condition that no longer passes the checks at save: evaluating it fails closed."""


@dataclass(frozen=True)
class CompiledCondition:
    source: str
    program: cel.Program | None
    functions: frozenset[str]
    variables: frozenset[str] = frozenset()
    cost: ConditionCost | None = None
    refusal: str = ""

    def evaluate(self, context: cel.Context, data: RequestData | None = None) -> bool:
        """Whether the condition holds. Given the request's data, it first checks what running would cost
        on it, and raises ConditionTooCostly rather than run past the limit."""
        if self.refusal:
            raise ConditionRefused(self.refusal)
        if self.program is None:
            return True
        cost = self.cost
        if data is not None and cost is not None and cost.roots and data.total(cost.roots) > cost.max_total:
            cost.check(data)  # the data may be too large for it: look closer
        result = self.program.execute(context)
        if not isinstance(result, bool):
            raise TypeError(f"the condition gave {type(result).__name__} {result!r}, not true or false")
        return result


def _position(source: str, index: int) -> tuple[int, int]:
    line = source.count("\n", 0, index) + 1
    column = index - (source.rfind("\n", 0, index) + 1) + 1
    return line, column


def _first(source: str, name: str) -> tuple[int, int] | tuple[None, None]:
    match = re.search(rf"\b{re.escape(name)}\b", source)
    return _position(source, match.start()) if match else (None, None)


def _check_names(source: str, program: cel.Program) -> None:
    blanked = _STRING_LITERAL.sub(lambda m: " " * len(m.group()), source)
    references = program.references()
    bound = set(_MACRO_BINDING.findall(blanked))
    for name in references["variables"]:
        if name not in REQUEST_VARIABLES and name not in bound:
            raise ConditionError(f"Unknown name '{name}'", *_first(blanked, name))
    for name in references["functions"]:
        if name[0] in "_@!" or name in CEL_FUNCTIONS or name in STATEFUL_FUNCTIONS:
            continue
        raise ConditionError(f"Unknown function '{name}'", *_first(blanked, name))
    for match in _ATTRIBUTE.finditer(blanked):
        owner, attribute = match.groups()
        known = AGENT_ATTRIBUTES if owner == "agent" else DEPARTMENT_ATTRIBUTES
        if attribute not in known:
            raise ConditionError(
                f"Unknown attribute '{owner}.{attribute}' (known: {', '.join(sorted(known))})",
                *_position(source, match.start(2)),
            )


def sample_context() -> cel.Context:
    """A request with every name present, to catch type errors when a condition is saved."""
    context = cel.Context(
        {
            "agent": {
                "slug": "sample",
                "name": "Sample",
                "risk_tier": 2,
                "monthly_budget": 1000.0,
                "department": "sample",
                "capabilities": ["invoice.approve"],
                "provider": "Sample",
                "provider_kind": "simulated",
                "model": "sim",
                "status": "active",
            },
            "department": {
                "slug": "sample",
                "name": "Sample",
                "monthly_budget": 10000.0,
                "risk_appetite": 50,
                "status": "active",
            },
            "action": "invoice.approve",
            "resource": "invoice/1",
            "amount": 100.0,
            "currency": "EUR",
            "data_classes": ["pii"],
            "context": {},
            "now": dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.UTC),
        }
    )
    context.add_function("agent_spend_month", lambda: 0.0)
    context.add_function("department_spend_month", lambda: 0.0)
    context.add_function("agent_actions_last_hour", lambda: 0)
    return context


@lru_cache(maxsize=4096)
def compile_condition(source: str) -> CompiledCondition:
    """Compile and check a condition; raise ConditionError saying what is wrong and where.

    In this order, each step bounded by the one before: the length (which bounds parsing), the runtime's
    parse, the names, the cost limits (which bound evaluating), and one evaluation on a sample request.
    """
    if not source.strip():
        return CompiledCondition(source, None, frozenset())
    try:
        check_length(source)
    except CostError as exc:
        raise ConditionError(str(exc)) from None
    try:
        program = cel.compile(source)
    except ValueError as exc:
        message = str(exc)
        position = _POSITION.search(message)
        detail = message.split("ERROR: <input>:", 1)[-1].split("\n", 1)[0]
        detail = detail.split(": ", 1)[-1] if position else message
        if position:
            raise ConditionError(detail, int(position.group(1)), int(position.group(2))) from None
        raise ConditionError(detail) from None
    _check_names(source, program)
    try:
        cost = estimate(source, frozenset(REQUEST_VARIABLES), SCALARS)
    except CostError as exc:
        raise ConditionError(str(exc), *(_position(source, exc.index) if exc.index is not None else ())) from None
    references = program.references()
    compiled = CompiledCondition(
        source,
        program,
        functions=frozenset(references["functions"]) & STATEFUL_FUNCTIONS,
        variables=frozenset(references["variables"]) & REQUEST_VARIABLES,
        cost=cost,
    )
    try:
        compiled.evaluate(sample_context())
    except LookupError:
        pass  # context keys and list lengths vary by request; a missing one is handled when it is evaluated
    except (TypeError, RuntimeError, ValueError, ArithmeticError) as exc:
        raise ConditionError(f"The condition cannot be evaluated: {exc}") from None
    return compiled


def refused_condition(source: str, reason: str) -> CompiledCondition:
    """A stored condition that fails today's checks (saved before a limit existed): it fails closed when
    evaluated, with the reason recorded on the decision."""
    return CompiledCondition(source, None, frozenset(), refusal=f"the condition is refused at save today: {reason}")
