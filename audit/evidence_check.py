"""Verify a Regent evidence pack offline: `python -m audit.evidence_check PACK [--public-key B64]`.

Needs only Python and `cryptography`; no database, no Django. Checks, in order: the signature over
every byte before the signature line, each event's hash, each event's link to the one before, and
that sequence numbers have no gap. Pin the public key you trust with --public-key; without it the
key inside the pack is used, which proves integrity but not who signed.

A pack may be gzip-compressed (retention archives are, `.jsonl.gz`), and may hold record lines after its
events (`{"type": "record", "table": …, "row": …}`: the decisions and traces an archive took out of the
database), covered by the signature like every other line. The pack is read line by line: memory stays flat
whatever its size.
"""

import argparse
import base64
import gzip
import hashlib
import io
import json
import sys
from collections.abc import Iterable, Iterator

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.hashing import hash_payload

GZIP_MAGIC = b"\x1f\x8b"


class EvidenceError(Exception):
    pass


def open_pack(path: str) -> io.BufferedIOBase:
    """The pack's lines as bytes, decompressed when the file is gzip."""
    raw = open(path, "rb")  # noqa: SIM115 (returned to the caller, who closes it)
    if raw.peek(2)[:2] == GZIP_MAGIC:
        return gzip.GzipFile(fileobj=raw)
    return raw


def verify_pack(data: bytes, public_key_b64: str | None = None) -> dict:
    """Return the header and the number of events when the pack holds; raise EvidenceError otherwise."""
    if data[:2] == GZIP_MAGIC:
        data = gzip.decompress(data)
    return verify_lines(io.BytesIO(data), public_key_b64)


def verify_file(path: str, public_key_b64: str | None = None) -> dict:
    """`verify_pack` for a file, read as a stream."""
    with open_pack(path) as lines:
        return verify_lines(lines, public_key_b64)


def _with_last(lines: Iterable[bytes]) -> Iterator[tuple[bytes, bool]]:
    iterator = iter(lines)
    previous = next(iterator, None)
    for line in iterator:
        yield previous, False
        previous = line
    if previous is not None:
        yield previous, True


def verify_lines(lines: Iterable[bytes], public_key_b64: str | None = None) -> dict:
    """Verify a pack given line by line (each with its newline); return its header, the number of events, the
    number of records and the last event's seq and hash. The signature is judged first, as if read first: an
    event found wrong on the way is named only once the signature holds."""
    digest = hashlib.sha256()
    header = signature = None
    prev_hash = prev_seq = None
    count = records = 0
    problem = ""
    for number, (line, last) in enumerate(_with_last(lines), start=1):
        if last and number > 1:
            signature = json.loads(line)
            break
        digest.update(line)
        if problem:
            continue
        entry = json.loads(line)
        if number == 1:
            header = entry
            if header.get("type") != "header":
                raise EvidenceError("not an evidence pack: header or signature line missing")
            prev_hash = header["prev_hash"]
        elif entry.get("type") == "record":
            records += 1
        else:
            problem = _event_problem(number, entry, header, prev_seq, prev_hash)
            prev_hash, prev_seq, count = entry["hash"], entry["seq"], count + 1
    if header is None or signature is None:
        raise EvidenceError("not an evidence pack: expected a header and a signature line")
    if signature.get("type") != "signature":
        raise EvidenceError("not an evidence pack: header or signature line missing")
    if digest.hexdigest() != signature["sha256"]:
        raise EvidenceError("the content does not match the signed digest: the pack was altered")
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64 or header["public_key"]))
    try:
        key.verify(base64.b64decode(signature["signature"]), digest.digest())
    except InvalidSignature:
        raise EvidenceError("the signature does not verify with this public key") from None
    if problem:
        raise EvidenceError(problem)
    if count != signature["events"]:
        raise EvidenceError(f"the signature covers {signature['events']} events, the pack holds {count}")
    if records != signature.get("records", 0):
        raise EvidenceError(f"the signature covers {signature.get('records', 0)} records, the pack holds {records}")
    if count and header.get("last_seq") is not None and prev_seq != header["last_seq"]:
        raise EvidenceError(f"the pack says it ends at #{header['last_seq']}, its last event is #{prev_seq}")
    return {"header": header, "events": count, "records": records, "last_seq": prev_seq, "last_hash": prev_hash}


def _event_problem(number: int, event: dict, header: dict, prev_seq: int | None, prev_hash: str) -> str:
    """Why an event line does not hold where it sits, or ""."""
    if prev_seq is None and header.get("first_seq") is not None and event["seq"] != header["first_seq"]:
        return f"line {number}: the pack starts at #{header['first_seq']}, not #{event['seq']}"
    if prev_seq is not None and event["seq"] != prev_seq + 1:
        return f"line {number}: sequence jumps from {prev_seq} to {event['seq']}"
    if event["prev_hash"] != prev_hash:
        return f"line {number} (event {event['seq']}): link to the previous event does not match"
    if hash_payload(event) != event["hash"]:
        return f"line {number} (event {event['seq']}): content does not match its hash"
    return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pack", help="Path to the .jsonl evidence pack")
    parser.add_argument("--public-key", help="Base64 Ed25519 public key you trust (from export_evidence)")
    args = parser.parse_args(argv)
    try:
        result = verify_file(args.pack, args.public_key)
    except (EvidenceError, OSError, ValueError, KeyError) as exc:
        print(f"INVALID: {exc}", file=sys.stderr)
        return 1
    header = result["header"]
    records = f" and {result['records']} records" if result["records"] else ""
    print(
        f"VALID: {result['events']} events (#{header['first_seq']}–#{header['last_seq']}){records} "
        f"from {header['from']} to {header['to']}; chain head at export {header['chain_head']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
