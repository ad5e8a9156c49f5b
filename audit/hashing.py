"""The audit chain's hashing rules, in plain Python so evidence can be checked without Regent.

An event's hash is SHA-256 over the canonical JSON of its payload: keys sorted, no spaces, UTF-8,
timestamps in UTC ISO 8601, decimals as strings. The payload includes the previous event's hash.
"""

import datetime as dt
import hashlib
import json
from decimal import Decimal

GENESIS_HASH = "0" * 64
HASHED_FIELDS = (
    "seq",
    "occurred_at",
    "actor_id",
    "actor_label",
    "kind",
    "subject_type",
    "subject_id",
    "department_id",
    "before",
    "after",
    "prev_hash",
)


def _json_default(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default)


def hash_payload(payload: dict) -> str:
    return hashlib.sha256(canonical({name: payload[name] for name in HASHED_FIELDS}).encode()).hexdigest()
