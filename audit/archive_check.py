"""Verify retention archives and the chain after them, end to end, offline:
`python -m audit.archive_check ARCHIVE.jsonl.gz... [--pack NEWER.jsonl] [--public-key B64]`.

Needs only Python and `cryptography`. Each archive must verify as an evidence pack (audit.evidence_check), and
together, in the order of their cuts, they must form one chain: each starts with the event after the previous
one's cut and links to its hash, the first at the chain's first event. A newer evidence pack (`manage.py
export_evidence` of the events after the last cut) must continue from the last archive's cut the same way: the
archives and the chain still in the database then verify as one chain from its first event.
"""

import argparse
import sys

from audit.evidence_check import EvidenceError, verify_file
from audit.hashing import GENESIS_HASH


def verify_archives(paths: list[str], pack: str | None = None, public_key_b64: str | None = None) -> dict:
    """Return the chain's extent ({"events", "records", "last_seq", "last_hash"}) when the archives and the pack
    form one chain from its first event; raise EvidenceError naming the file and what does not hold."""
    checked = []
    for path in paths:
        try:
            result = verify_file(path, public_key_b64)
        except EvidenceError as error:
            raise EvidenceError(f"{path}: {error}") from error
        checked.append((path, result))
    checked.sort(key=lambda item: (item[1]["header"]["cut"]["seq"], item[1]["header"]["exported_at"]))
    seq, last_hash, events, records = 0, GENESIS_HASH, 0, 0
    for path, result in checked:
        header = result["header"]
        if header.get("purpose") != "retention archive":
            raise EvidenceError(f"{path}: not a retention archive")
        _continues(path, header, result, seq, last_hash)
        seq, last_hash = header["cut"]["seq"], header["cut"]["hash"]
        events, records = events + result["events"], records + result["records"]
    if pack is not None:
        try:
            result = verify_file(pack, public_key_b64)
        except EvidenceError as error:
            raise EvidenceError(f"{pack}: {error}") from error
        if result["events"]:
            _continues(pack, result["header"], result, seq, last_hash)
            seq, last_hash = result["last_seq"], result["last_hash"]
        events += result["events"]
    return {"events": events, "records": records, "last_seq": seq, "last_hash": last_hash}


def _continues(path: str, header: dict, result: dict, seq: int, last_hash: str) -> None:
    """The file's events start right after `seq` and link to `last_hash`."""
    first = header.get("first_seq")
    if result["events"] and first != seq + 1:
        raise EvidenceError(f"{path}: starts at event #{first}, not #{seq + 1}: events before it are missing")
    if header["prev_hash"] != last_hash:
        raise EvidenceError(f"{path}: does not link to event #{seq}, where the files before it end")
    cut = header.get("cut")
    if cut and (cut["seq"] != (result["last_seq"] if result["events"] else seq)):
        raise EvidenceError(f"{path}: its cut is not its last event")
    if cut and result["events"] and cut["hash"] != result["last_hash"]:
        raise EvidenceError(f"{path}: its cut is not its last event")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archives", nargs="+", help="Every retention archive (.jsonl.gz), in any order")
    parser.add_argument("--pack", help="An evidence pack of the events after the last archive's cut")
    parser.add_argument("--public-key", help="Base64 Ed25519 public key you trust (from export_evidence)")
    args = parser.parse_args(argv)
    try:
        result = verify_archives(args.archives, args.pack, args.public_key)
    except (EvidenceError, OSError, ValueError, KeyError) as error:
        print(f"INVALID: {error}", file=sys.stderr)
        return 1
    print(
        f"VALID: one chain of {result['events']:,} events from the first to #{result['last_seq']} "
        f"(last hash {result['last_hash']}), with {result['records']:,} archived records"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
