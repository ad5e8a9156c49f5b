"""Evidence packs: a time range of the audit chain as signed JSON Lines, checkable offline.

Line 1 is a header (range, the hash the first event links to, the chain head at export, the public
key); then one line per event with exactly the fields that were hashed plus its hash (and, in a retention
archive, one per record it took out of the database, audit.retention); the last line
signs the SHA-256 of every byte before it with Ed25519. `python -m audit.evidence_check`
verifies a pack with nothing but Python and `cryptography`.
"""

import base64
import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.db.models import Max, Min
from django.utils import timezone

from audit.chain import event_payload
from audit.hashing import GENESIS_HASH, canonical
from audit.models import AuditChainHead, AuditEvent

FORMAT = "regent.evidence/1"


def signing_key() -> Ed25519PrivateKey:
    """EVIDENCE_SIGNING_KEY (base64 of a 32-byte seed) or, unset, a key derived from SECRET_KEY."""
    if settings.EVIDENCE_SIGNING_KEY:
        seed = base64.b64decode(settings.EVIDENCE_SIGNING_KEY)
    else:
        seed = hashlib.sha256(f"regent-evidence:{settings.SECRET_KEY}".encode()).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key_b64() -> str:
    raw = signing_key().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def export_lines(since: dt.datetime, until: dt.datetime) -> Iterator[str]:
    """Yield the pack line by line (each ending in a newline), streaming events from the database."""
    in_range = AuditEvent.objects.filter(occurred_at__gte=since, occurred_at__lt=until)
    bounds = in_range.aggregate(first=Min("seq"), last=Max("seq"))
    # A contiguous piece of the chain: every event between the first and last in the range, so each
    # link can be checked; commits can interleave timestamps slightly around the edges.
    events = AuditEvent.objects.filter(seq__gte=bounds["first"] or 0, seq__lte=bounds["last"] or -1).order_by("seq")
    first = events.only("seq", "prev_hash").first()
    head = AuditChainHead.objects.filter(pk=1).first()
    header = {
        "type": "header",
        "format": FORMAT,
        "from": since.astimezone(dt.UTC).isoformat(),
        "to": until.astimezone(dt.UTC).isoformat(),
        "first_seq": bounds["first"],
        "last_seq": bounds["last"],
        "prev_hash": first.prev_hash if first else GENESIS_HASH,
        "chain_head": {"seq": head.seq, "hash": head.hash} if head else None,
        "exported_at": timezone.now().astimezone(dt.UTC).isoformat(),
        "public_key": public_key_b64(),
    }
    yield from signed_lines(header, (event_line(event) for event in events.iterator(chunk_size=2000)))


def event_line(event: AuditEvent) -> dict:
    return {"type": "event", **event_payload(event), "hash": event.hash}


def signed_lines(header: dict, events: Iterable[dict], records: Iterable[dict] = ()) -> Iterator[str]:
    """A pack's lines: the header, one line per event (`event_line`), one per record (a row the pack carries out
    of the database, {"type": "record", "table": …, "row": …}), then the signature over every byte before it."""
    digest = hashlib.sha256()
    count = record_count = 0
    line = canonical(header) + "\n"
    digest.update(line.encode())
    yield line
    for event in events:
        line = canonical(event) + "\n"
        digest.update(line.encode())
        count += 1
        yield line
    for record in records:
        line = canonical(record) + "\n"
        digest.update(line.encode())
        record_count += 1
        yield line
    signature = signing_key().sign(digest.digest())
    closing = {
        "type": "signature",
        "algorithm": "ed25519",
        "events": count,
        "sha256": digest.hexdigest(),
        "signature": base64.b64encode(signature).decode(),
    }
    if record_count:
        closing["records"] = record_count
    yield canonical(closing) + "\n"
