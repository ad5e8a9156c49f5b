"""Evidence packs: a signed piece of the audit chain that an auditor can check without Regent."""

import base64
import datetime as dt
import hashlib
import json
import subprocess
import sys
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.core.management import CommandError, call_command

from audit.evidence import export_lines, public_key_b64
from audit.evidence_check import EvidenceError, verify_pack
from tests.support.clock import NOW
from tests.support.servers import PROJECT_ROOT

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(decide, finance_agent):
    return [decide(finance_agent, "invoice.approve", amount=Decimal(amount)) for amount in ("10", "20", "30")]


def export(**window) -> bytes:
    since = window.get("since", dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    until = window.get("until", dt.datetime(2100, 1, 1, tzinfo=dt.UTC))
    return "".join(export_lines(since, until)).encode()


def rewrite_line(pack: bytes, number: int, change) -> bytes:
    lines = pack.decode().splitlines(keepends=True)
    record = json.loads(lines[number])
    change(record)
    lines[number] = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
    return "".join(lines).encode()


def test_an_exported_pack_verifies_with_the_published_key(history) -> None:
    pack = export()

    result = verify_pack(pack, public_key_b64())

    assert result["events"] == len(history)
    assert result["header"]["chain_head"]["seq"] == len(history)


def test_a_changed_event_is_caught(history) -> None:
    pack = rewrite_line(export(), 2, lambda event: event["after"].update(verdict="deny"))

    with pytest.raises(EvidenceError, match="altered"):
        verify_pack(pack, public_key_b64())


def test_a_pack_re_signed_with_another_key_is_refused_when_the_key_is_pinned(history) -> None:
    forger = Ed25519PrivateKey.generate()
    forger_key = base64.b64encode(forger.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()
    pack = rewrite_line(export(), 2, lambda event: event["after"].update(verdict="deny"))
    pack = rewrite_line(pack, 0, lambda header: header.update(public_key=forger_key))
    lines = pack.decode().splitlines(keepends=True)
    body = "".join(lines[:-1]).encode()
    digest = hashlib.sha256(body).digest()
    signature = json.loads(lines[-1])
    signature.update(sha256=digest.hex(), signature=base64.b64encode(forger.sign(digest)).decode())
    forged = body + (json.dumps(signature, sort_keys=True, separators=(",", ":")) + "\n").encode()

    with pytest.raises(EvidenceError, match="signature"):
        verify_pack(forged, public_key_b64())


def test_a_removed_event_is_caught(history) -> None:
    lines = export().decode().splitlines(keepends=True)
    del lines[2]

    with pytest.raises(EvidenceError, match="altered"):
        verify_pack("".join(lines).encode(), public_key_b64())


def test_a_pack_whose_chain_was_rewritten_and_re_signed_by_its_own_key_still_fails_the_hash_check(history) -> None:
    """Without a pinned key the signature proves little; the hash chain still catches an edited event."""
    forger = Ed25519PrivateKey.generate()
    lines = export().decode().splitlines(keepends=True)
    event = json.loads(lines[2])
    event["after"]["verdict"] = "deny"
    lines[2] = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
    header = json.loads(lines[0])
    header["public_key"] = base64.b64encode(forger.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()
    lines[0] = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
    body = "".join(lines[:-1]).encode()
    digest = hashlib.sha256(body).digest()
    signature = json.loads(lines[-1])
    signature.update(sha256=digest.hex(), signature=base64.b64encode(forger.sign(digest)).decode())
    forged = body + (json.dumps(signature, sort_keys=True, separators=(",", ":")) + "\n").encode()

    with pytest.raises(EvidenceError, match="does not match its hash"):
        verify_pack(forged)


def test_a_time_window_exports_a_contiguous_piece_that_links_to_the_chain(history, decide, finance_agent) -> None:
    later = decide(finance_agent, "invoice.approve", amount=Decimal("40"), now=NOW + dt.timedelta(hours=1))
    since = later.created_at - dt.timedelta(microseconds=1)

    result = verify_pack(export(since=since), public_key_b64())

    assert result["events"] == 1
    assert result["header"]["first_seq"] == len(history) + 1
    assert result["header"]["prev_hash"] != "0" * 64


def test_the_offline_checker_runs_without_django_and_says_valid(history, tmp_path) -> None:
    pack_path = tmp_path / "pack.jsonl"
    call_command("export_evidence", "--from", "2000-01-01", "--output", str(pack_path))

    checked = subprocess.run(  # noqa: S603 (a bare interpreter: no DJANGO_SETTINGS_MODULE, no database)
        [sys.executable, "-m", "audit.evidence_check", str(pack_path), "--public-key", public_key_b64()],
        cwd=PROJECT_ROOT,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )

    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith(f"VALID: {len(history)} events")


def test_the_export_command_refuses_a_window_that_ends_before_it_starts() -> None:
    with pytest.raises(CommandError, match="after"):
        call_command("export_evidence", "--from", "2026-11-02", "--to", "2026-11-01")


def test_the_export_command_refuses_a_date_it_cannot_read() -> None:
    with pytest.raises(CommandError, match="not a date"):
        call_command("export_evidence", "--from", "yesterday")
