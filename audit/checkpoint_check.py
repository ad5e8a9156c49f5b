"""Check a signed checkpoint of the audit chain offline: `python -m audit.checkpoint_check FILE [--public-key B64]
[--pack EVIDENCE.jsonl]`.

Needs only Python and `cryptography`. A checkpoint is JSON: format, size (events in the chain), last_hash,
signed_at, public_key and an Ed25519 signature over the canonical JSON of the other fields. With --pack, the
evidence pack must verify too (audit.evidence_check) and agree with the checkpoint: if the pack holds the
checkpoint's last event, its hash is the checkpoint's. Pin the key you trust with --public-key.
"""

import argparse
import base64
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.evidence_check import EvidenceError, verify_pack
from audit.hashing import canonical

FORMAT = "regent.checkpoint/1"
SIGNED_FIELDS = ("format", "size", "last_hash", "signed_at", "public_key")


class CheckpointError(Exception):
    pass


def signed_body(document: dict) -> bytes:
    """The bytes the signature covers: the canonical JSON of every field but the signature."""
    return canonical({name: document[name] for name in SIGNED_FIELDS}).encode()


def verify_checkpoint(document: dict, public_key_b64: str | None = None) -> dict:
    """Return the checkpoint when its signature holds (under the pinned key, if given); raise CheckpointError."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CheckpointError(f"not a checkpoint: expected format {FORMAT}")
    missing = [name for name in (*SIGNED_FIELDS, "signature") if name not in document]
    if missing:
        raise CheckpointError(f"not a checkpoint: {', '.join(missing)} missing")
    if public_key_b64 and document["public_key"] != public_key_b64:
        raise CheckpointError("signed with another key than the one pinned")
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(document["public_key"]))
        key.verify(base64.b64decode(document["signature"]), signed_body(document))
    except (InvalidSignature, ValueError) as error:
        raise CheckpointError("the signature does not match its content") from error
    return document


def check_against_pack(document: dict, pack: bytes, public_key_b64: str | None) -> str:
    """Why a verified evidence pack disagrees with the checkpoint, or ""."""
    verify_pack(pack, public_key_b64)
    for line in pack.splitlines():
        entry = json.loads(line)
        if entry.get("type") == "event" and entry["seq"] == document["size"]:
            if entry["hash"] != document["last_hash"]:
                return f"event #{document['size']} in the pack is not the one the checkpoint signs"
            return ""
    return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--public-key", help="The organisation's public key (base64) you trust")
    parser.add_argument("--pack", help="An evidence pack to check against the checkpoint")
    args = parser.parse_args(argv)
    try:
        with open(args.checkpoint, encoding="utf-8") as handle:
            document = verify_checkpoint(json.load(handle), args.public_key)
        if args.pack:
            with open(args.pack, "rb") as handle:
                disagreement = check_against_pack(document, handle.read(), args.public_key)
            if disagreement:
                raise CheckpointError(disagreement)
    except (OSError, ValueError, KeyError, CheckpointError, EvidenceError) as error:
        print(f"INVALID: {error}", file=sys.stderr)
        return 1
    print(
        f"VALID: a checkpoint of {document['size']} events, last hash {document['last_hash']}, "
        f"signed at {document['signed_at']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
