"""Signed checkpoints of the audit log, copied to witnesses outside the database, and `verify_audit` naming a
rewind or truncation that contradicts a witness's copy (issue 20, item 1)."""

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from audit import checkpoint_check, checkpoints
from audit.evidence import export_lines, public_key_b64
from audit.models import AuditChainHead, Checkpoint
from tests.audit.conftest import BUCKET


@pytest.fixture
def five_decisions(decide, finance_agent):
    return [decide(finance_agent, amount=amount, currency="EUR") for amount in (10, 20, 30, 40, 50)]


def head_size() -> int:
    return AuditChainHead.objects.get().seq


def test_a_checkpoint_signs_the_head_and_a_directory_witness_keeps_a_copy(five_decisions, witness_dir):
    # When a checkpoint is signed on demand
    call_command("checkpoint_audit", stdout=StringIO())

    # Then it is stored with the head's size and hash, and the witness holds the same signed document
    checkpoint = Checkpoint.objects.get()
    head = AuditChainHead.objects.get()
    assert (checkpoint.size, checkpoint.last_hash) == (head.seq, head.hash)
    assert checkpoint.witnessed_by == [f"directory {witness_dir}"]
    held = json.loads((witness_dir / "latest.json").read_text())
    assert held == checkpoints.as_document(checkpoint)
    assert len(list(witness_dir.glob(f"checkpoint-{head.seq}-*.json"))) == 1


def test_a_witness_copy_checks_offline_and_an_altered_one_does_not(five_decisions, witness_dir, capsys):
    # Given a checkpoint held by the directory witness
    checkpoints.take()
    path = witness_dir / "latest.json"

    # When it is checked offline, as it is and with its size raised
    intact = checkpoint_check.main([str(path)])
    document = json.loads(path.read_text())
    document["size"] += 10
    altered_path = witness_dir / "altered.json"
    altered_path.write_text(json.dumps(document))
    altered = checkpoint_check.main([str(altered_path)])

    # Then the first verifies and the altered one is refused
    assert (intact, altered) == (0, 1)
    assert "the signature does not match its content" in capsys.readouterr().err


def test_an_unreachable_witness_is_recorded_and_the_checkpoint_still_stands(five_decisions, settings):
    # Given a webhook witness nobody listens on
    settings.AUDIT_WITNESSES = ["http://127.0.0.1:9/checkpoints"]

    # When a checkpoint is signed
    checkpoint = checkpoints.take()

    # Then it is stored, held by no witness, with the reason
    assert checkpoint.pk is not None and checkpoint.witnessed_by == []
    assert "could not be reached" in checkpoint.witness_errors["webhook 127.0.0.1:9"]


def test_a_webhook_witness_receives_checkpoints_signed_by_the_organisation(five_decisions, webhook_witness):
    # When a checkpoint is signed
    checkpoint = checkpoints.take()

    # Then the receiver verified the request's signature and holds the checkpoint
    assert webhook_witness.refused == []
    assert webhook_witness.received == [checkpoints.as_document(checkpoint)]
    assert checkpoint.witnessed_by == [f"webhook 127.0.0.1:{webhook_witness.url.split(':')[2].split('/')[0]}"]


@pytest.mark.postgres
def test_verify_audit_names_a_rewind_by_raw_sql_that_a_witness_contradicts(five_decisions, witness_dir, rewrite_log):
    # Given a checkpoint held by the witness, then the newest two events deleted and the head rewound
    # by raw SQL, as a database superuser could
    size = head_size()
    checkpoint = checkpoints.take()
    rewrite_log.cut_to(size - 2)

    # When verify_audit runs
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit", stdout=StringIO())

    # Then it names the rewind: how many events the chain has, and what the witness holds, signed when
    signed_at = checkpoint.signed_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    assert (
        f"the chain has {size - 2} events; witness directory {witness_dir} holds a checkpoint of {size} "
        f"signed at {signed_at}"
    ) in str(failure.value)


def test_a_bucket_witness_keeps_each_checkpoint_and_the_latest(five_decisions, bucket_witness):
    # When two checkpoints are signed, one on demand
    checkpoints.take()
    call_command("checkpoint_audit", stdout=StringIO())
    newest = Checkpoint.objects.order_by("-pk").first()

    # Then the bucket holds each under its size and time, and latest.json is the newest, as signed
    keys = [o["Key"] for o in bucket_witness.list_objects_v2(Bucket=BUCKET, Prefix="acme/")["Contents"]]
    assert sorted(keys)[-1] == "acme/latest.json"
    assert len([k for k in keys if k.startswith(f"acme/checkpoint-{newest.size}-")]) == 2
    held = json.loads(bucket_witness.get_object(Bucket=BUCKET, Key="acme/latest.json")["Body"].read())
    assert held == checkpoints.as_document(newest)
    assert newest.witnessed_by == [f"bucket s3://{BUCKET}/acme"]


def test_a_bucket_that_refuses_is_recorded_and_the_checkpoint_still_stands(five_decisions, settings, s3_server):
    # Given a bucket witness whose bucket does not exist
    settings.AUDIT_WITNESSES = ["s3://no-such-bucket/acme"]

    # When a checkpoint is signed
    checkpoint = checkpoints.take()

    # Then it is stored, held by no witness, with the bucket's reason
    assert checkpoint.pk is not None and checkpoint.witnessed_by == []
    assert "NoSuchBucket" in checkpoint.witness_errors["bucket s3://no-such-bucket/acme"]


@pytest.mark.postgres
def test_verify_audit_names_a_rewind_that_a_bucket_witness_contradicts(five_decisions, bucket_witness, rewrite_log):
    # Given a checkpoint held by the bucket, then the newest three events deleted and the head rewound
    size = head_size()
    checkpoints.take()
    rewrite_log.cut_to(size - 3)

    # When verify_audit runs
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit", stdout=StringIO())

    # Then it names the rewind against the bucket's copy
    assert f"the chain has {size - 3} events; witness bucket s3://{BUCKET}/acme holds a checkpoint of {size}" in str(
        failure.value
    )


@pytest.mark.postgres
def test_verify_audit_names_a_truncation_that_a_webhook_witness_contradicts(
    five_decisions, webhook_witness, rewrite_log
):
    # Given a checkpoint held by the webhook witness, then the audit table truncated and the head reset
    size = head_size()
    checkpoints.take()
    rewrite_log.truncate()

    # When verify_audit runs
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit", stdout=StringIO())

    # Then it names the truncation against the witness's checkpoint
    assert "the chain has 0 events; witness webhook 127.0.0.1:" in str(failure.value)
    assert f"holds a checkpoint of {size} signed at" in str(failure.value)


def test_verify_audit_names_a_chain_rewritten_up_to_a_witness_checkpoint(five_decisions, witness_dir, rewrite_log):
    # Given a checkpoint, then every event from the third on replaced by a consistent forgery: the events are
    # re-hashed and relinked, so the walk alone finds nothing
    size = head_size()
    checkpoints.take()
    rewrite_log.forge_from(3)

    # When verify_audit runs
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit", stdout=StringIO())

    # Then the witness's checkpoint shows the rewrite
    assert f"event #{size} is not the one witness directory {witness_dir} holds" in str(failure.value)


def test_a_checkpoint_and_an_evidence_pack_check_together_offline(five_decisions, witness_dir, tmp_path, capsys):
    # Given a checkpoint held by the witness and an evidence pack covering the same events
    checkpoint = checkpoints.take()
    pack = tmp_path / "pack.jsonl"
    pack.write_text(
        "".join(export_lines(dt.datetime(2000, 1, 1, tzinfo=dt.UTC), dt.datetime(2100, 1, 1, tzinfo=dt.UTC)))
    )
    held = witness_dir / "latest.json"

    # When both are checked offline under the pinned key, then against a checkpoint naming another last hash
    together = checkpoint_check.main([str(held), "--pack", str(pack), "--public-key", public_key_b64()])
    other = checkpoints.sign(checkpoint.size, "f" * 64, checkpoint.signed_at)
    other_path = tmp_path / "other.json"
    other_path.write_text(json.dumps(checkpoints.as_document(other)))
    disagreeing = checkpoint_check.main([str(other_path), "--pack", str(pack), "--public-key", public_key_b64()])

    # Then the first is VALID, and the second names the event the pack and the checkpoint disagree on
    assert (together, disagreeing) == (0, 1)
    assert f"event #{checkpoint.size} in the pack is not the one the checkpoint signs" in capsys.readouterr().err
