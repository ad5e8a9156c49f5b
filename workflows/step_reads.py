"""The rows a workflow step reads on every task, each in one plain SQL statement.

Through the ORM, locking a step with its template, capability, run and workflow cost about 1.5 ms of CPU
to compile on this class of machine, and reading a run's steps with their templates 1.3 ms: more than
the database takes to answer. These statements are written once per process; values go through the
ORM's converters (fastpath.reads), so the step path works with ordinary model instances.
"""

from dataclasses import dataclass
from functools import cache

from django.db import connection

from fastpath import reads
from orchestration.models import Capability
from workflows.models import StepRun, StepTemplate, WorkflowRun, WorkflowTemplate
from workflows.models.runs import step_keys


def for_routing(step_id: int) -> StepRun | None:
    """The step, with its template, capability, run and workflow attached; not locked (routing chooses an
    agent before it locks the step: workflows.runtime._route_and_govern)."""
    sql, models = _for_routing(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, [step_id])
        row = cursor.fetchone()
    if row is None:
        return None
    (step, template, capability, run, workflow), _ = reads.instances(row, models)
    StepTemplate.capability.field.set_cached_value(template, capability)
    WorkflowRun.workflow.field.set_cached_value(run, workflow)
    StepRun.template.field.set_cached_value(step, template)
    StepRun.run.field.set_cached_value(step, run)
    return step


@dataclass(frozen=True)
class StepState:
    """What says whether a result still counts: the step is running the same call."""

    pk: int
    status: str
    agent_id: int | None
    attempts: int
    decision_id: int | None


def lock_state(step_id: int) -> StepState | None:
    """The step's state, row-locked until commit."""
    with connection.cursor() as cursor:
        cursor.execute(_state_sql(connection.vendor), [step_id])
        row = cursor.fetchone()
    return None if row is None else StepState(*row)


@dataclass(frozen=True)
class RunStep:
    pk: int
    status: str
    key: str
    dependencies: list[str]


def of_run(run_id: int) -> list[RunStep]:
    """Every step of the run, with its key and the keys it waits for."""
    with connection.cursor() as cursor:
        cursor.execute(_of_run_sql(connection.vendor), [run_id])
        return [RunStep(pk, status, key, step_keys(depends_on)) for pk, status, key, depends_on in cursor.fetchall()]


RUN_LOCK_CLASS = 7_204_118  # pg advisory locks (class, run): one progress check per run at a time


def serialize_progress(*run_ids: int) -> None:
    """Until commit, make other transactions that lock a step of these runs wait here (in run order).

    Two parallel steps finishing at once would each read the other as still running, and neither would
    start the step that waits for both; and a transaction that stops a run (a failed step, a kill, a cancel)
    locks its other steps and their requests, which a step of another agent being routed, failed or approved
    at the same moment locks the other way round. So every transaction that locks a step takes its run's
    lock first, after the kill switch's (the lock order in orchestration.kill_switch). An advisory lock, not
    the run's row, which is written in no fixed place. SQLite runs one writer at a time, which serialises
    them already.
    """
    if connection.vendor != "postgresql" or not run_ids:
        return
    keys = sorted({run_id % 2_147_483_647 for run_id in run_ids})
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT " + ", ".join("pg_advisory_xact_lock(%s, %s)" for _ in keys),
            [value for key in keys for value in (RUN_LOCK_CLASS, key)],
        )


def _lock(alias: str) -> str:
    features = connection.features
    if features.has_select_for_update_of:
        return f" FOR UPDATE OF {alias}"
    return " FOR UPDATE" if features.has_select_for_update else ""


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _column(model, name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


# Names in the statements below come from model metadata; ids are parameters.


@cache
def _for_routing(vendor: str) -> tuple[str, tuple]:
    models = (StepRun, StepTemplate, Capability, WorkflowRun, WorkflowTemplate)
    pk = connection.ops.quote_name("id")
    sql = (
        f"SELECT {reads.columns(StepRun, 's')}, {reads.columns(StepTemplate, 't')}, "  # noqa: S608
        f"{reads.columns(Capability, 'c')}, {reads.columns(WorkflowRun, 'r')}, {reads.columns(WorkflowTemplate, 'w')} "
        f"FROM {_table(StepRun)} s "
        f"JOIN {_table(StepTemplate)} t ON t.{pk} = s.{_column(StepRun, 'template')} "
        f"JOIN {_table(Capability)} c ON c.{pk} = t.{_column(StepTemplate, 'capability')} "
        f"JOIN {_table(WorkflowRun)} r ON r.{pk} = s.{_column(StepRun, 'run')} "
        f"JOIN {_table(WorkflowTemplate)} w ON w.{pk} = r.{_column(WorkflowRun, 'workflow')} "
        f"WHERE s.{pk} = %s"
    )
    return sql, models


@cache
def _state_sql(vendor: str) -> str:
    columns = ", ".join(_column(StepRun, name) for name in ("id", "status", "agent", "attempts", "decision"))
    pk = connection.ops.quote_name("id")
    return f"SELECT {columns} FROM {_table(StepRun)} s WHERE s.{pk} = %s{_lock('s')}"  # noqa: S608


@cache
def _of_run_sql(vendor: str) -> str:
    pk = connection.ops.quote_name("id")
    return (
        f"SELECT s.{pk}, s.{_column(StepRun, 'status')}, t.{_column(StepTemplate, 'key')}, "  # noqa: S608
        f"t.{_column(StepTemplate, 'depends_on')} FROM {_table(StepRun)} s "
        f"JOIN {_table(StepTemplate)} t ON t.{pk} = s.{_column(StepRun, 'template')} "
        f"WHERE s.{_column(StepRun, 'run')} = %s ORDER BY t.{_column(StepTemplate, 'position')}, s.{pk}"
    )
