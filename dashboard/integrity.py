"""What the integrity page says about the audit chain, in words, for each person.

People who see the whole organisation (Auditors first) see the chain's size, each finding and the signed
checkpoint. A Supervisor sees whether the chain holds and their own departments' events, never the
organisation's event count or the findings that would reveal it.
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings

from audit import checkpoints, retention, witnesses
from audit.evidence import public_key_b64
from audit.models import AuditEvent, Checkpoint, RetentionArchive, VerificationRun
from orchestration.roles import sees_whole_organisation
from orchestration.scoping import visible_departments

Status = VerificationRun.Status


def may_start(user) -> bool:
    return user.has_perm("audit.verify_chain")


def _when(moment: dt.datetime | None) -> str:
    return "" if moment is None else moment.astimezone(dt.UTC).strftime("%-d %b %Y, %H:%M:%S UTC")


def _who(run: VerificationRun) -> str:
    user = run.started_by
    return (user.get_full_name() or user.get_username()) if user else "the system"


def run_state(run: VerificationRun, whole_organisation: bool) -> dict:
    """A run as the page and its JSON show it: status words, progress and the result in sentences."""
    to_check = run.to_check
    percent = 100 if run.finished else (int(run.checked * 100 / to_check) if to_check else 0)
    state = {
        "id": run.pk,
        "status": run.status,
        "status_label": run.get_status_display(),
        "finished": run.finished,
        "percent": percent,
        "started": f"Started by {_who(run)} on {_when(run.requested_at)}",
        "summary": summary(run, whole_organisation),
        "findings": list(run.findings) if whole_organisation else [],
    }
    if whole_organisation and to_check is not None:
        state["progress"] = f"{min(run.checked, to_check):,} of {to_check:,} events checked ({percent}%)"
    elif not run.finished:
        state["progress"] = f"{percent}% checked"
    return state


def summary(run: VerificationRun, whole_organisation: bool) -> str:
    if run.status == Status.QUEUED:
        return "Waiting for a background worker to start the check."
    if run.status == Status.RUNNING:
        return "Checking every event's link to the one before it and its content against its hash."
    finished = _when(run.finished_at)
    if not whole_organisation:
        if run.status == Status.INTACT:
            return f"The audit log was found intact on {finished}."
        if run.status == Status.BROKEN:
            return f"The check on {finished} found the audit log altered. An Auditor has the details."
        return f"The check on {finished} could not finish. An Auditor has the details."
    if run.status == Status.INTACT:
        scope = (
            f"the {run.checked:,} events after the verified checkpoint of {run.from_seq:,}"
            if run.from_seq
            else f"all {run.checked:,} events"
        )
        return (
            f"Intact on {finished}: {scope} link to the one before and match their hashes, "
            f"and no witness holds a checkpoint the chain contradicts."
        )
    if run.status == Status.BROKEN:
        return f"Altered: the check on {finished} found what does not hold below."
    return f"The check on {finished} could not finish: {'; '.join(run.findings)}."


@dataclass(frozen=True)
class CheckpointView:
    size: int
    signed_at: str
    fingerprint: str
    witnessed_by: list[str]
    witness_errors: dict[str, str]
    verified: bool


def checkpoint_view(checkpoint: Checkpoint | None) -> CheckpointView | None:
    if checkpoint is None:
        return None
    return CheckpointView(
        size=checkpoint.size,
        signed_at=_when(checkpoint.signed_at),
        fingerprint=checkpoints.fingerprint(checkpoints.as_document(checkpoint)),
        witnessed_by=list(checkpoint.witnessed_by),
        witness_errors=dict(checkpoint.witness_errors),
        verified=checkpoint.verified_at is not None,
    )


@dataclass(frozen=True)
class RetentionView:
    """What is kept, for how long, where expired records go, and the last cut: the chain starts after it."""

    kept: list[tuple[str, str]]
    archive: str
    archives: int
    last_cut: str


_KEPT = {
    "decisions": "Decisions, with their outcomes and approvals",
    "audit_events": "Audit events",
    "traces": "Workflow runs, with their steps",
    "spans": "Agents' reasoning (trace spans)",
}


def _days(days: int) -> str:
    return f"{days:,} days (about {days * 12 // 365} months)" if days >= 60 else f"{days:,} days"


def _records_held(archive: RetentionArchive) -> str:
    """The records other than events the archive took, in words: "1 decision and 12 spans" ("" for none)."""
    held = []
    for kind in retention.kinds():
        count = archive.records.get(kind.model._meta.db_table, 0)
        if count:
            meta = kind.model._meta
            held.append(f"{count:,} {meta.verbose_name if count == 1 else meta.verbose_name_plural}")
    if len(held) < 2:
        return "".join(held)
    return f"{', '.join(held[:-1])} and {held[-1]}"


def _last_cut(latest: RetentionArchive) -> str:
    done = (
        f"archived to {latest.location}, read back and verified on {_when(latest.verified_at)}, then deleted on "
        f"{_when(latest.deleted_at)}."
    )
    held = _records_held(latest)
    if latest.seq < latest.first_seq:  # records expired on a shorter period than the events (spans): no cut
        start = (
            f"The log starts after event #{latest.seq:,}, whose hash a signed checkpoint holds."
            if latest.seq
            else "The log starts at its first event."
        )
        return f"The last archive held no events, only {held or 'nothing else'}: {done} {start}"
    also = f" It also held {held}." if held else ""
    events = (
        f"Event #{latest.seq:,} was"
        if latest.first_seq == latest.seq
        else f"Events #{latest.first_seq:,}–#{latest.seq:,} were"
    )
    return (
        f"{events} {done} The log now starts after event #{latest.seq:,}, whose hash a signed checkpoint holds.{also}"
    )


def retention_view() -> RetentionView:
    latest = RetentionArchive.objects.filter(deleted_at__isnull=False).first()
    last_cut = "" if latest is None else _last_cut(latest)
    return RetentionView(
        kept=[(label, _days(settings.RETENTION_DAYS[kind])) for kind, label in _KEPT.items()],
        archive=settings.RETENTION_ARCHIVE,
        archives=RetentionArchive.objects.filter(deleted_at__isnull=False).count(),
        last_cut=last_cut,
    )


def _interval(seconds: int) -> str:
    if seconds % 60 == 0:
        minutes = seconds // 60
        return "minute" if minutes == 1 else f"{minutes} minutes"
    return f"{seconds} seconds"


def page_context(user) -> dict:
    whole = sees_whole_organisation(user)
    run = VerificationRun.objects.select_related("started_by").first()
    context = {
        "whole_organisation": whole,
        "may_start": may_start(user),
        "run": run_state(run, whole) if run else None,
        "checkpoint": checkpoint_view(checkpoints.latest()),
        "witnesses": [witness.name for witness in witnesses.configured()],
        "checkpoint_interval": _interval(settings.AUDIT_CHECKPOINT_SECONDS),
    }
    if whole:
        head = checkpoints.latest()
        context["public_key"] = public_key_b64()
        context["latest_verified"] = checkpoint_view(checkpoints.latest_verified())
        context["checkpoint_file"] = f"regent-checkpoint-{head.size}.json" if head else ""
        context["retention"] = retention_view()
    else:
        departments = visible_departments(user)
        context["departments"] = ", ".join(department.name for department in departments)
        context["department_events"] = AuditEvent.objects.filter(department__in=departments).count()
    return context
