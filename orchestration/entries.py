"""Registry entries (capabilities, model providers, workflow templates): saved with an audit event of what
changed, and never deleted while something depends on them.

Each entry's model says what depends on it (`dependants()`) and, where deleting is never right,
what to do instead (`removal_advice`); a model may add to what the audit log keeps (`audit_details()`).
"""

from django.db import models, transaction
from django.db.models import ProtectedError

from audit import chain
from orchestration import signals
from restapi.domain_errors import DomainError


class InUse(DomainError):
    """A registry entry others depend on: deleting it would break them, or silently widen a policy's scope."""

    status_code = 409
    code = "conflict"


@transaction.atomic
def save_registry_entry(entry: models.Model, *, by=None) -> models.Model:
    """Create or change a capability or a model provider, validated as its model says, and audited."""
    before = snapshot(type(entry).objects.select_for_update().get(pk=entry.pk)) if entry.pk else None
    entry.full_clean()
    entry.save()
    record_change(entry, before, by)
    transaction.on_commit(lambda: signals.registry_changed.send(type(entry)))  # a provider's cost is in every ranking
    return entry


@transaction.atomic
def delete_registry_entry(entry: models.Model, *, by=None) -> None:
    """Delete an entry nothing depends on; else raise InUse saying what does."""
    reason = in_use(entry)
    if reason:
        raise InUse(reason)
    before, pk = snapshot(entry), entry.pk
    try:
        entry.delete()
    except ProtectedError as exc:  # something came to depend on it since the check
        raise InUse(f"{_label(entry)} is in use: {_instead(entry)}") from exc
    kind = entry._meta.model_name
    chain.record(f"{kind}.deleted", subject_type=kind, subject_id=pk, actor=by, before=before)
    transaction.on_commit(lambda: signals.registry_changed.send(type(entry)))


def in_use(entry: models.Model) -> str:
    """Why the entry may not be deleted, saying what depends on it; empty when nothing does."""
    users = ", ".join(f"{count} {what}" for what, count in entry.dependants().items() if count)
    return f"{_label(entry)} is in use ({users}): {_instead(entry)}" if users else ""


def record_change(entry: models.Model, before: dict | None, by) -> None:
    """An audit event for a created or changed entry, unless nothing the log keeps has changed."""
    after = snapshot(entry)
    if after == before:
        return
    kind = entry._meta.model_name
    chain.record(
        f"{kind}.{'changed' if before else 'created'}",
        subject_type=kind,
        subject_id=entry.pk,
        actor=by,
        before=before,
        after=after,
    )


def snapshot(entry: models.Model) -> dict:
    """What the audit log keeps of an entry: its fields (never a provider's signing secret) and its details."""
    kept = [f.name for f in entry._meta.concrete_fields if f.name not in ("id", "signing_secret")]
    data = {name: getattr(entry, name) for name in kept}
    if hasattr(entry, "audit_details"):
        data.update(entry.audit_details())
    return chain.plain(data)


def _label(entry: models.Model) -> str:
    return f"{entry._meta.verbose_name.capitalize()} {entry}"


def _instead(entry: models.Model) -> str:
    return getattr(entry, "removal_advice", "take it from what uses it first.")
