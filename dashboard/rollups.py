"""Keeping the rollup buckets exact while decisions, outcomes and approvals keep arriving.

Why changes and not a watermark: a PostgreSQL sequence is not commit-ordered, so folding "rows
with an id above the last one folded" can skip a row whose transaction commits late, and outcomes
and approvals arrive long after their decision. Instead a trigger appends a `RollupChange` in the
writer's own transaction (visible exactly when the row it describes is), and `fold_changes` deletes
a batch of changes and adds exactly the deleted rows to the buckets, in one transaction: a change is
either still waiting (and readers add it) or folded, never both, never neither. Writers only append,
so they never queue on a hot counter row.

The SQL that says what a decision, outcome or approval contributes is written once, here, and serves
the triggers (one row), bulk ingest (a batch of decisions at once), the seed's set-based build (millions
of rows) and nothing else.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction

from dashboard.models import DEPARTMENT_DIMENSIONS, DIMENSIONS, MEASURES

FOLD_BATCH = 100_000
FOLD_LOCK_KEY = 7_204_117  # pg advisory lock: one fold at a time (correctness does not depend on it)
BULK_LOAD_SETTING = "regent.bulk_load"  # 'on' in a transaction that builds its buckets itself (the seed)
PERSON_DECIDED = "('approved', 'rejected')"
WAIT_BINS = (  # (measure, lower bound exclusive, upper bound inclusive) in seconds
    ("wait_1m", None, 60),
    ("wait_5m", 60, 300),
    ("wait_15m", 300, 900),
    ("wait_1h", 900, 3600),
    ("wait_4h", 3600, 14400),
    ("wait_1d", 14400, 86400),
    ("wait_more", 86400, None),
)
CHANGE_COLUMNS = ("hour", "day", *DIMENSIONS, "policy_id", "policy_mode", "hits", *MEASURES)


@dataclass(frozen=True)
class Dialect:
    hour: str
    day: str
    seconds: str
    policies: str
    policy_id: str
    policy_mode: str


DIALECTS = {
    "postgresql": Dialect(
        hour="date_trunc('hour', {0}, 'UTC')",
        day="date_trunc('day', {0}, 'UTC')",
        seconds="CAST(extract(epoch FROM {1} - {0}) AS bigint)",
        policies="CROSS JOIN LATERAL jsonb_array_elements(d.matched_policies) AS p(elem)",
        policy_id="CAST(p.elem->>'id' AS bigint)",
        policy_mode="coalesce(p.elem->>'mode', 'enforce')",
    ),
    "sqlite": Dialect(
        hour="strftime('%Y-%m-%d %H:00:00', {0})",
        day="strftime('%Y-%m-%d 00:00:00', {0})",
        seconds="CAST(round((julianday({1}) - julianday({0})) * 86400) AS integer)",
        policies="CROSS JOIN json_each(d.matched_policies) AS p",
        policy_id="json_extract(p.value, '$.id')",
        policy_mode="coalesce(json_extract(p.value, '$.mode'), 'enforce')",
    ),
}


def _dialect() -> Dialect:
    return DIALECTS[connection.vendor]


def _when(condition: str, then: str = "1") -> str:
    return f"CASE WHEN {condition} THEN {then} ELSE 0 END"


def _decision_measures() -> dict[str, str]:
    passed = "d.verdict IN ('allow', 'flag')"
    return {
        "decisions": "1",
        "risk_total": "d.risk_score",
        "risk_low": _when("d.risk_score < 25"),
        "risk_moderate": _when("d.risk_score >= 25 AND d.risk_score < 50"),
        "risk_high": _when("d.risk_score >= 50 AND d.risk_score < 75"),
        "risk_critical": _when("d.risk_score >= 75"),
        "shadow_deny": _when("d.shadow_verdict = 'deny' AND d.verdict <> 'deny'"),
        "shadow_hold": _when("d.shadow_verdict = 'require_approval' AND d.verdict <> 'require_approval'"),
        "shadow_allow": _when(f"d.shadow_verdict IN ('allow', 'flag') AND NOT ({passed})"),
        "spend": _when(passed, "coalesce(d.amount, 0)"),
    }


def _outcome_measures() -> dict[str, str]:
    # The spend reserved for the action is given back when it failed (governance.evaluation.report_outcome).
    reserved = (
        "(d.verdict IN ('allow', 'flag') OR EXISTS (SELECT 1 FROM governance_approval x "
        "WHERE x.decision_id = d.id AND x.status = 'approved'))"
    )
    return {
        "outcomes": "1",
        "successes": _when("o.result = 'success'"),
        "cost": "o.cost",
        "value": "o.value",
        "csat_total": "coalesce(o.csat, 0)",
        "csat_count": _when("o.csat IS NOT NULL"),
        "spend": _when(f"o.result = 'failure' AND {reserved}", "-coalesce(d.amount, 0)"),
    }


def _approval_measures(dialect: Dialect) -> dict[str, str]:
    by_person = f"p.status IN {PERSON_DECIDED} AND p.decided_at IS NOT NULL"
    waited = dialect.seconds.format("p.requested_at", "p.decided_at")
    measures = {
        "approvals_approved": _when("p.status = 'approved'"),
        "approvals_rejected": _when("p.status = 'rejected'"),
        "approvals_expired": _when("p.status IN ('expired', 'withdrawn')"),
        "spend": _when("p.status = 'approved'", "coalesce(d.amount, 0)"),
        "approval_wait_seconds": _when(by_person, waited),
    }
    for name, low, high in WAIT_BINS:
        bounds = [f"{waited} > {low}" if low is not None else "", f"{waited} <= {high}" if high is not None else ""]
        measures[name] = _when(" AND ".join([by_person, *filter(None, bounds)]))
    return measures


def _select(measures: dict[str, str], source: str, where: str, policy: tuple[str, str, str] | None = None) -> str:
    """One change row per source row, with every column of RollupChange in CHANGE_COLUMNS order."""
    dialect = _dialect()
    policy_id, policy_mode, hits = policy or ("NULL", "''", "0")
    values = [
        dialect.hour.format("d.created_at"),
        dialect.day.format("d.created_at"),
        "d.department_id",
        "d.agent_id",
        "a.provider_id",
        "d.verdict",
        "CASE WHEN d.amount IS NULL THEN '' ELSE d.currency END",
        policy_id,
        policy_mode,
        hits,
        *(measures.get(name, "0") for name in MEASURES),
    ]
    named = ", ".join(f"{value} AS {name}" for value, name in zip(values, CHANGE_COLUMNS, strict=True))
    return f"SELECT {named} FROM {source} WHERE {where}"


AGENT = "JOIN orchestration_agent a ON a.id = d.agent_id"


def decision_changes(where: str, decisions: str = "governance_decision") -> str:
    return _select(_decision_measures(), f"{decisions} d {AGENT}", where)


def policy_changes(where: str, decisions: str = "governance_decision") -> str:
    dialect = _dialect()
    return _select(
        {}, f"{decisions} d {AGENT} {dialect.policies}", where, policy=(dialect.policy_id, dialect.policy_mode, "1")
    )


def outcome_changes(where: str, outcomes: str = "governance_outcome") -> str:
    return _select(
        _outcome_measures(), f"{outcomes} o JOIN governance_decision d ON d.id = o.decision_id {AGENT}", where
    )


def approval_changes(where: str, approvals: str = "governance_approval p") -> str:
    """`approvals` names the approval rows as `p` (and may join what the condition needs)."""
    return _select(
        _approval_measures(_dialect()),
        f"{approvals} JOIN governance_decision d ON d.id = p.decision_id {AGENT}",
        where,
    )


# --- triggers -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trigger:
    """One rollup trigger. PostgreSQL runs it once per statement over the statement's transition tables
    (`new_rows`, `old_rows`), so a COPY of a thousand decisions costs one set-based INSERT of changes, not a
    thousand; SQLite has only row triggers, which read NEW and OLD."""

    table: str
    event: str
    for_each_row: Callable[[], list[str]]  # SQLite: the change selects for NEW
    row_condition: str | None
    for_each_statement: Callable[[], list[str]]  # PostgreSQL: the change selects over the transition tables


TRIGGERS = {
    "dashboard_rollup_decision": Trigger(
        "governance_decision",
        "INSERT",
        lambda: [decision_changes("d.id = NEW.id"), policy_changes("d.id = NEW.id")],
        None,
        lambda: [decision_changes("true", "new_rows"), policy_changes("true", "new_rows")],
    ),
    "dashboard_rollup_outcome": Trigger(
        "governance_outcome",
        "INSERT",
        lambda: [outcome_changes("o.id = NEW.id")],
        None,
        lambda: [outcome_changes("true", "new_rows")],
    ),
    "dashboard_rollup_approval_created": Trigger(
        "governance_approval",
        "INSERT",
        lambda: [approval_changes("p.id = NEW.id")],
        "NEW.status <> 'pending'",
        lambda: [approval_changes("p.status <> 'pending'", "new_rows p")],
    ),
    "dashboard_rollup_approval_resolved": Trigger(
        "governance_approval",
        "UPDATE",
        lambda: [approval_changes("p.id = NEW.id")],
        "OLD.status = 'pending' AND NEW.status <> 'pending'",
        lambda: [
            approval_changes(
                "p.status <> 'pending' AND o.status = 'pending'", "new_rows p JOIN old_rows o ON o.id = p.id"
            )
        ],
    ),
}


def _inserts(selects: list[str]) -> str:
    columns = ", ".join(CHANGE_COLUMNS)
    return "\n".join(f"INSERT INTO dashboard_rollupchange ({columns}) {select};" for select in selects)


def trigger_statements(vendor: str) -> list[str]:
    statements = []
    for name, trigger in TRIGGERS.items():
        if vendor == "postgresql":
            transition = "NEW TABLE AS new_rows" + (" OLD TABLE AS old_rows" if trigger.event == "UPDATE" else "")
            body = _inserts(trigger.for_each_statement())
            statements += [
                f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$\nBEGIN\n"
                f"IF current_setting('{BULK_LOAD_SETTING}', true) IS DISTINCT FROM 'on' THEN\n{body}\nEND IF;\n"
                "RETURN NULL;\nEND;\n$$ LANGUAGE plpgsql;",
                f"DROP TRIGGER IF EXISTS {name} ON {trigger.table};",
                f"CREATE TRIGGER {name} AFTER {trigger.event} ON {trigger.table} REFERENCING {transition} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {name}();",
            ]
        else:
            when = f" WHEN {trigger.row_condition}" if trigger.row_condition else ""
            statements += [
                f"DROP TRIGGER IF EXISTS {name};",
                f"CREATE TRIGGER {name} AFTER {trigger.event} ON {trigger.table} FOR EACH ROW{when}\n"
                f"BEGIN\n{_inserts(trigger.for_each_row())}\nEND;",
            ]
    return statements


def install_triggers(using: str = "default", **_signal_kwargs) -> None:
    """Run after every migrate: the triggers always match the SQL above, with no migration to forget."""
    from django.db import connections

    target = connections[using]
    if target.vendor not in DIALECTS:
        return
    with target.cursor() as cursor:
        for statement in trigger_statements(target.vendor):
            cursor.execute(statement)


# --- folding --------------------------------------------------------------------------------------


def _sums(prefix: str = "") -> str:
    return ", ".join(f"SUM({prefix}{name}) AS {name}" for name in MEASURES)


def _upsert(table: str, key: tuple[str, ...], measures: tuple[str, ...], select: str) -> str:
    columns = ", ".join((*key, *measures))
    additions = ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name in measures)
    return f"INSERT INTO {table} ({columns}) {select} ON CONFLICT ({', '.join(key)}) DO UPDATE SET {additions}"


def add_to_buckets(changes: str) -> None:
    """Add the rows of `changes` (a SELECT shaped like RollupChange) to the hour and day buckets: per agent and
    provider, per department, and per policy."""
    dims = ", ".join(DIMENSIONS)
    key = ("grain", "start", *DIMENSIONS)
    measure_list = ", ".join(MEASURES)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS rollup_delta")
        cursor.execute(
            f"CREATE TEMP TABLE rollup_delta AS SELECT hour, day, {dims}, {_sums()} "
            f"FROM ({changes}) c WHERE c.policy_id IS NULL GROUP BY hour, day, {dims}"
        )
        cursor.execute(
            _upsert(
                "dashboard_decisionrollup",
                key,
                MEASURES,
                f"SELECT 'hour', hour, {dims}, {measure_list} FROM rollup_delta WHERE true",
            )
        )
        cursor.execute(
            _upsert(
                "dashboard_decisionrollup",
                key,
                MEASURES,
                f"SELECT 'day', day, {dims}, {_sums()} FROM rollup_delta WHERE true GROUP BY day, {dims}",
            )
        )
        department_key = ("grain", "start", *DEPARTMENT_DIMENSIONS)
        for grain in ("hour", "day"):
            departments = ", ".join(DEPARTMENT_DIMENSIONS)
            cursor.execute(
                _upsert(
                    "dashboard_departmentrollup",
                    department_key,
                    MEASURES,
                    f"SELECT '{grain}', {grain}, {departments}, {_sums()} "
                    f"FROM rollup_delta WHERE true GROUP BY {grain}, {departments}",
                )
            )
        cursor.execute("DROP TABLE rollup_delta")
        policy_key = ("grain", "start", "department_id", "agent_id", "policy_id", "policy_mode")
        for grain in ("hour", "day"):
            cursor.execute(
                _upsert(
                    "dashboard_policyrollup",
                    policy_key,
                    ("hits",),
                    f"SELECT '{grain}', {grain}, department_id, agent_id, policy_id, policy_mode, SUM(hits) "
                    f"FROM ({changes}) c WHERE c.policy_id IS NOT NULL "
                    f"GROUP BY {grain}, department_id, agent_id, policy_id, policy_mode",
                )
            )


def add_up_department_buckets() -> None:
    """Make the department buckets again from the agent buckets: for a bench or a test that writes DecisionRollup
    rows itself. The fold keeps both in step; nothing else in Regent needs this."""
    departments, measures = ", ".join(DEPARTMENT_DIMENSIONS), ", ".join(MEASURES)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM dashboard_departmentrollup")
        cursor.execute(
            f"INSERT INTO dashboard_departmentrollup (grain, start, {departments}, {measures}) "
            f"SELECT grain, start, {departments}, {_sums()} FROM dashboard_decisionrollup "
            f"GROUP BY grain, start, {departments}"
        )


def fold_changes(batch: int = FOLD_BATCH) -> int:
    """Move up to `batch` waiting changes into the buckets; return how many moved.

    On PostgreSQL the changes are deleted and captured by one statement (DELETE … RETURNING), so the
    rows added are exactly the rows removed at any isolation level; a change committed meanwhile stays
    for the next fold, and a concurrent fold skips rows this one deleted. SQLite has one writer at a
    time, and the transaction holds its lock from the first statement.
    """
    postgres = connection.vendor == "postgresql"
    with transaction.atomic(), connection.cursor() as cursor:
        if postgres:
            cursor.execute(f"SELECT pg_try_advisory_xact_lock({FOLD_LOCK_KEY})")
            if not cursor.fetchone()[0]:
                return 0  # another fold is running; this beat has nothing to add
        cursor.execute(f"SELECT id FROM dashboard_rollupchange ORDER BY id LIMIT 1 OFFSET {int(batch) - 1}")
        row = cursor.fetchone()
        if row is None:
            cursor.execute("SELECT max(id) FROM dashboard_rollupchange")
            row = cursor.fetchone()
        if row[0] is None:
            return 0
        last = int(row[0])
        cursor.execute("DROP TABLE IF EXISTS rollup_folding")
        cursor.execute("CREATE TEMP TABLE rollup_folding AS SELECT * FROM dashboard_rollupchange WHERE 1 = 0")
        if postgres:
            cursor.execute(
                f"WITH moved AS (DELETE FROM dashboard_rollupchange WHERE id <= {last} RETURNING *) "
                "INSERT INTO rollup_folding SELECT * FROM moved"
            )
        else:
            cursor.execute(f"INSERT INTO rollup_folding SELECT * FROM dashboard_rollupchange WHERE id <= {last}")
            cursor.execute(f"DELETE FROM dashboard_rollupchange WHERE id <= {last}")
        moved = cursor.rowcount
        add_to_buckets("SELECT * FROM rollup_folding")
        cursor.execute("DROP TABLE rollup_folding")
        return moved
