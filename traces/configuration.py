"""Changes to what ingest masks, keeps and prices, each recorded in the audit chain: they decide what evidence of
the agents' reasoning exists and what the executives' cost figures say."""

from django.db import transaction
from django.forms.models import model_to_dict

from audit import chain
from traces.models import ContentSetting, RedactionPattern, TokenPrice

Setting = TokenPrice | RedactionPattern | ContentSetting
KINDS = {TokenPrice: "token_price", RedactionPattern: "redaction_pattern", ContentSetting: "trace_content"}


@transaction.atomic
def save_setting(entry: Setting, *, by) -> None:
    kind = KINDS[type(entry)]
    before = model_to_dict(type(entry).objects.get(pk=entry.pk)) if entry.pk else None
    entry.save()
    chain.record(
        f"{kind}.{'changed' if before else 'created'}",
        subject_type=kind,
        subject_id=entry.pk,
        actor=by,
        department_id=getattr(entry, "department_id", None),
        before=before,
        after=model_to_dict(entry),
    )


@transaction.atomic
def delete_setting(entry: Setting, *, by) -> None:
    kind = KINDS[type(entry)]
    chain.record(
        f"{kind}.deleted",
        subject_type=kind,
        subject_id=entry.pk,
        actor=by,
        department_id=getattr(entry, "department_id", None),
        before=model_to_dict(entry),
    )
    entry.delete()
