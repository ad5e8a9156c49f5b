"""Signed checkpoints of the audit chain, and what a witness's copy says about the chain now.

A checkpoint is the head (size = the last event's seq, its hash) at a moment, signed with the organisation's
Ed25519 key (audit.evidence.signing_key) over its canonical JSON, the transparency-log pattern: a copy held
outside the database (audit.witnesses) contradicts a chain that was later rewound, truncated or rewritten,
whoever could write to the database. `python -m audit.checkpoint_check` checks one offline.
"""

import base64
import datetime as dt
import hashlib
from dataclasses import dataclass

from django.utils import timezone

from audit import chain, witnesses
from audit.checkpoint_check import FORMAT, CheckpointError, signed_body, verify_checkpoint
from audit.evidence import public_key_b64, signing_key
from audit.hashing import GENESIS_HASH, canonical
from audit.models import AuditChainHead, AuditEvent, Checkpoint


def as_document(checkpoint: Checkpoint) -> dict:
    """The checkpoint as witnesses hold it and `checkpoint_check` reads it."""
    return {
        "format": FORMAT,
        "size": checkpoint.size,
        "last_hash": checkpoint.last_hash,
        "signed_at": checkpoint.signed_at.astimezone(dt.UTC).isoformat(),
        "public_key": checkpoint.public_key,
        "signature": checkpoint.signature,
    }


def fingerprint(document: dict) -> str:
    """A short name for a signed checkpoint (16 hex digits of the SHA-256 of its canonical JSON), to compare
    the copy on the page with one a witness holds, by eye."""
    digest = hashlib.sha256(canonical(document).encode()).hexdigest()[:16]
    return " ".join(digest[i : i + 4] for i in range(0, 16, 4))


def sign(size: int, last_hash: str, at: dt.datetime) -> Checkpoint:
    """An unsaved checkpoint of the given head, signed."""
    checkpoint = Checkpoint(size=size, last_hash=last_hash, signed_at=at, public_key=public_key_b64())
    body = signed_body(as_document(checkpoint))
    checkpoint.signature = base64.b64encode(signing_key().sign(body)).decode()
    return checkpoint


def take(*, size: int | None = None, last_hash: str | None = None, verified: bool = False) -> Checkpoint:
    """Sign the chain's head now (or the head given, as a verification found it), store it, and hand a copy to
    every configured witness. A witness that refuses or cannot be reached is recorded, never fatal: the
    checkpoint still stands in the table, and the next one goes to every witness again."""
    if size is None:
        head = AuditChainHead.objects.filter(pk=1).first()
        size, last_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    now = timezone.now()
    checkpoint = sign(size, last_hash, now)
    checkpoint.verified_at = now if verified else None
    document = as_document(checkpoint)
    for witness in witnesses.configured():
        try:
            witness.publish(document)
        except witnesses.WitnessError as error:
            checkpoint.witness_errors[witness.name] = str(error)
        else:
            checkpoint.witnessed_by.append(witness.name)
    checkpoint.save()
    return checkpoint


def latest() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-signed_at", "-id").first()


def latest_verified() -> Checkpoint | None:
    """Where incremental verification starts: the newest checkpoint a verification found the chain intact up to."""
    return Checkpoint.objects.filter(verified_at__isnull=False).order_by("-size", "-signed_at").first()


def mark_verified(checkpoint_id: int) -> None:
    Checkpoint.objects.filter(pk=checkpoint_id, verified_at__isnull=True).update(verified_at=timezone.now())


@dataclass(frozen=True)
class WitnessReading:
    """What one witness holds, checked against the chain: `problem` is empty when the chain agrees with it."""

    witness: str
    document: dict | None
    problem: str = ""


def compare(document: dict, witness: str, chain_size: int) -> str:
    """Why the chain (of `chain_size` events, as the caller's snapshot sees it) contradicts a signed checkpoint
    a witness holds, or "" when it does not. Call it inside the snapshot the chain was read in."""
    try:
        verify_checkpoint(document, public_key_b64())
    except CheckpointError as error:
        return f"witness {witness} holds a checkpoint that does not verify: {error}"
    size, signed_at = document["size"], _when(document["signed_at"])
    if size > chain_size:
        return (
            f"the chain has {chain_size} events; witness {witness} holds a checkpoint of {size} signed at "
            f"{signed_at}: the newest {size - chain_size} were removed and the chain rewound"
        )
    if size == 0:
        return ""
    start_seq, start_hash = chain.origin()
    if size < start_seq:  # its events are archived (audit.retention): `archive_check` holds them to it offline
        return ""
    if size == start_seq:
        if start_hash != document["last_hash"]:
            return (
                f"the chain starts after event #{size}, archived and deleted by retention, but not with the hash "
                f"witness {witness} holds in its checkpoint signed at {signed_at}"
            )
        return ""
    event = AuditEvent.objects.filter(seq=size).only("hash").first()
    if event is None or event.hash != document["last_hash"]:
        return (
            f"event #{size} is not the one witness {witness} holds in its checkpoint signed at {signed_at}: "
            "the chain was rewritten up to there"
        )
    return ""


def read_witnesses(chain_size: int) -> list[WitnessReading]:
    """Each configured witness's latest checkpoint, compared with the chain; call it inside the snapshot."""
    readings = []
    for witness in witnesses.configured():
        try:
            document = witness.latest()
        except witnesses.WitnessError as error:
            readings.append(WitnessReading(witness.name, None, f"witness {witness.name} could not be read: {error}"))
            continue
        problem = compare(document, witness.name, chain_size) if document else ""
        readings.append(WitnessReading(witness.name, document, problem))
    return readings


def _when(iso: str) -> str:
    return dt.datetime.fromisoformat(iso).astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
