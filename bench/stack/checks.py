"""The invariants after load and faults, checked against the stack's database with Regent's own functions:
every acknowledged decision is stored with exactly one audit event, the chain verifies, and every socket client
received each event its viewer may see exactly once. Run inside the stack's environment:
`python -m bench.stack.checks IN.json OUT.json`.

IN.json: {"acknowledged": [decision ids], "until": last event id to account for,
          "sockets": [{"user": username, "starts_after": id, "received": [ids in arrival order]}]}
"""

import json
import os
import sys
import time
from collections import Counter

import django

DRAIN_SECONDS = 60


def wait_for_sequencer() -> int:
    """Queued audit events are chained within a bounded delay: wait for the queue to empty; return what is left."""
    from audit.models import PendingEvent

    deadline = time.monotonic() + DRAIN_SECONDS
    while (left := PendingEvent.objects.count()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def decisions_stored(acknowledged: list[int]) -> dict:
    from audit.models import AuditEvent
    from governance.models import Decision

    ids = set(acknowledged)
    stored = set(Decision.objects.filter(pk__in=ids).values_list("pk", flat=True))
    audit = Counter(
        int(subject)
        for subject in AuditEvent.objects.filter(
            kind="decision.created", subject_type="decision", subject_id__in=[str(i) for i in ids]
        ).values_list("subject_id", flat=True)
    )
    return {
        "acknowledged": len(ids),
        "missing": sorted(ids - stored)[:20],
        "missing_count": len(ids - stored),
        "without_audit": sorted(i for i in stored if audit[i] == 0)[:20],
        "without_audit_count": sum(1 for i in stored if audit[i] == 0),
        "audit_more_than_once": sorted(i for i in stored if audit[i] > 1)[:20],
    }


def chain_verifies() -> dict:
    from audit.chain import verify_chain

    report = verify_chain()
    return {"ok": report.ok, "checked": report.checked, "broken_seq": report.broken_seq, "reason": report.reason}


def sockets_exact(sockets: list[dict], until: int) -> dict:
    """Each client against what its viewer's scope allows in (starts_after, until]; read once for all."""
    from django.contrib.auth.models import User

    from audit.events import STREAMED_KINDS, as_stream_event
    from audit.models import AuditEvent
    from dashboard.stream.scope import scope_for_user

    if not sockets:
        return {"clients": 0, "lost": 0, "duplicated": 0, "unexpected": 0, "clients_short": []}
    first = min(s["starts_after"] for s in sockets)
    streamed = [
        as_stream_event(e)
        for e in AuditEvent.objects.filter(seq__gt=first, seq__lte=until, kind__in=STREAMED_KINDS).order_by("seq")
    ]
    scopes = {name: scope_for_user(User.objects.get(username=name)) for name in {s["user"] for s in sockets}}
    visible = {name: [e["id"] for e in streamed if scope.allows(e)] for name, scope in scopes.items()}
    lost = duplicated = unexpected = 0
    short = []
    for n, client in enumerate(sockets):
        entitled = [i for i in visible[client["user"]] if i > client["starts_after"]]
        counts = Counter(i for i in client["received"] if i <= until)
        missing = [i for i in entitled if i not in counts]
        lost += len(missing)
        duplicated += sum(c - 1 for c in counts.values() if c > 1)
        unexpected += len(set(counts) - set(entitled))
        if missing:
            short.append({"client": n, "user": client["user"], "missing": len(missing), "first_missing": missing[:5]})
    return {
        "clients": len(sockets),
        "entitled_events": sum(len(v) for v in visible.values()),
        "lost": lost,
        "duplicated": duplicated,
        "unexpected": unexpected,
        "clients_short": short[:10],
    }


def check(given: dict) -> dict:
    left = wait_for_sequencer()
    return {
        "queued_left": left,
        "decisions": decisions_stored(given["acknowledged"]),
        "chain": chain_verifies(),
        "sockets": sockets_exact(given["sockets"], given["until"]),
    }


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    with open(sys.argv[1]) as given:
        result = check(json.load(given))
    with open(sys.argv[2], "w") as out:
        json.dump(result, out)
