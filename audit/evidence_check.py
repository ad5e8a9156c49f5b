"""Verify a Regent evidence pack offline: `python -m audit.evidence_check PACK [--public-key B64]`.

Needs only Python and `cryptography`; no database, no Django. Checks, in order: the signature over
every byte before the signature line, each event's hash, each event's link to the one before, and
that sequence numbers have no gap. Pin the public key you trust with --public-key; without it the
key inside the pack is used, which proves integrity but not who signed.
"""

import argparse
import base64
import hashlib
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.hashing import hash_payload


class EvidenceError(Exception):
    pass


def verify_pack(data: bytes, public_key_b64: str | None = None) -> dict:
    """Return the header and the number of events when the pack holds; raise EvidenceError otherwise."""
    lines = data.splitlines(keepends=True)
    if len(lines) < 2:
        raise EvidenceError("not an evidence pack: expected a header and a signature line")
    header, signature = json.loads(lines[0]), json.loads(lines[-1])
    if header.get("type") != "header" or signature.get("type") != "signature":
        raise EvidenceError("not an evidence pack: header or signature line missing")
    body = b"".join(lines[:-1])
    digest = hashlib.sha256(body).digest()
    if digest.hex() != signature["sha256"]:
        raise EvidenceError("the content does not match the signed digest: the pack was altered")
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64 or header["public_key"]))
    try:
        key.verify(base64.b64decode(signature["signature"]), digest)
    except InvalidSignature:
        raise EvidenceError("the signature does not verify with this public key") from None
    prev_hash, prev_seq, count = header["prev_hash"], None, 0
    for number, line in enumerate(lines[1:-1], start=2):
        event = json.loads(line)
        if prev_seq is not None and event["seq"] != prev_seq + 1:
            raise EvidenceError(f"line {number}: sequence jumps from {prev_seq} to {event['seq']}")
        if event["prev_hash"] != prev_hash:
            raise EvidenceError(f"line {number} (event {event['seq']}): link to the previous event does not match")
        if hash_payload(event) != event["hash"]:
            raise EvidenceError(f"line {number} (event {event['seq']}): content does not match its hash")
        prev_hash, prev_seq, count = event["hash"], event["seq"], count + 1
    if count != signature["events"]:
        raise EvidenceError(f"the signature covers {signature['events']} events, the pack holds {count}")
    return {"header": header, "events": count}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pack", help="Path to the .jsonl evidence pack")
    parser.add_argument("--public-key", help="Base64 Ed25519 public key you trust (from export_evidence)")
    args = parser.parse_args(argv)
    with open(args.pack, "rb") as handle:
        data = handle.read()
    try:
        result = verify_pack(data, args.public_key)
    except (EvidenceError, ValueError, KeyError) as exc:
        print(f"INVALID: {exc}", file=sys.stderr)
        return 1
    header = result["header"]
    print(
        f"VALID: {result['events']} events (#{header['first_seq']}–#{header['last_seq']}) "
        f"from {header['from']} to {header['to']}; chain head at export {header['chain_head']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
