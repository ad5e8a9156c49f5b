"""Fixtures for checkpoints and verification: witnesses (a directory, a webhook served by a real HTTP server in a
thread of the test, an S3-compatible bucket on moto's server) and a way to rewrite the audit log as a database
superuser could."""

import base64
import json
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import connection
from moto.server import ThreadedMotoServer

from audit.chain import hash_event
from audit.evidence import public_key_b64
from audit.models import AuditEvent
from audit.witnesses import SIGNATURE_HEADER


@pytest.fixture
def witness_dir(settings, tmp_path: Path) -> Path:
    directory = tmp_path / "witness"
    settings.AUDIT_WITNESSES = [f"file://{directory}"]
    return directory


class WebhookReceiver(BaseHTTPRequestHandler):
    """A witness service: keeps each POSTed checkpoint whose signature holds; GET answers the newest."""

    received: list[dict]
    refused: list[str]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        signature = self.headers.get(SIGNATURE_HEADER, "").removeprefix("ed25519=")
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64()))
        try:
            key.verify(base64.b64decode(signature), body)
        except (InvalidSignature, ValueError):
            self.refused.append(body.decode())
            self.send_response(401)
            self.end_headers()
            return
        self.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def do_GET(self) -> None:
        if not self.received:
            self.send_response(404)
            self.end_headers()
            return
        body = json.dumps(self.received[-1]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def webhook_witness(settings) -> Iterator[type[WebhookReceiver]]:
    receiver = type("Receiver", (WebhookReceiver,), {"received": [], "refused": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_port}/checkpoints"
    settings.AUDIT_WITNESSES = [receiver.url]
    yield receiver
    server.shutdown()
    thread.join(5)


@contextmanager
def as_database_superuser() -> Iterator[None]:
    """Switch triggers off for this session, as a PostgreSQL superuser can (SQLite has none to switch off)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = DEFAULT")


@pytest.fixture
def rewrite_log():
    """Functions that rewrite the audit log behind Regent's back."""

    class Rewrite:
        @staticmethod
        def cut_to(size: int) -> None:
            """Delete every event after `size` and rewind the head to it: a rewind the walk alone cannot see."""
            with as_database_superuser(), connection.cursor() as cursor:
                cursor.execute("DELETE FROM governance_auditevent WHERE seq > %s", [size])
                cursor.execute("SELECT hash FROM governance_auditevent WHERE seq = %s", [size])
                row = cursor.fetchone()
                cursor.execute(
                    "UPDATE governance_auditchainhead SET seq = %s, hash = %s WHERE id = 1",
                    [size, row[0] if row else "0" * 64],
                )

        @staticmethod
        def truncate() -> None:
            with as_database_superuser(), connection.cursor() as cursor:
                cursor.execute(
                    "TRUNCATE governance_auditevent"
                    if connection.vendor == "postgresql"
                    else "DELETE FROM governance_auditevent"
                )
                cursor.execute("UPDATE governance_auditchainhead SET seq = 0, hash = %s WHERE id = 1", ["0" * 64])

        @staticmethod
        def edit(seq: int, after: dict) -> None:
            cast = "::jsonb" if connection.vendor == "postgresql" else ""
            with as_database_superuser(), connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE governance_auditevent SET after = %s{cast} WHERE seq = %s",  # noqa: S608
                    [json.dumps(after), seq],
                )

        @staticmethod
        def forge_from(seq: int) -> None:
            """Rewrite every event from `seq` on with other content, rehashed and relinked, and move the head with
            them: a forgery the walk alone cannot see, for it needs no key."""
            events = list(AuditEvent.objects.filter(seq__gte=seq).order_by("seq"))
            prev_hash = AuditEvent.objects.get(seq=seq - 1).hash
            with as_database_superuser(), connection.cursor() as cursor:
                for event in events:
                    event.after = {**(event.after or {}), "forged": True}
                    event.prev_hash = prev_hash
                    event.hash = prev_hash = hash_event(event)
                    cursor.execute(
                        "UPDATE governance_auditevent SET after = %s, prev_hash = %s, hash = %s WHERE seq = %s",
                        [json.dumps(event.after), event.prev_hash, event.hash, event.seq],
                    )
                cursor.execute("UPDATE governance_auditchainhead SET hash = %s WHERE id = 1", [prev_hash])

    return Rewrite


BUCKET = "regent-witness"


@pytest.fixture
def s3_server(monkeypatch) -> Iterator[str]:
    """An S3-compatible server (moto's, over real HTTP on a free port), and the AWS settings boto3 reads to use it."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    reset = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")  # noqa: S310 (the local server)
    urllib.request.urlopen(reset, timeout=5).close()  # noqa: S310 (moto keeps its buckets in the process: start empty)
    for name, value in {
        "AWS_ENDPOINT_URL_S3": endpoint,
        "AWS_ACCESS_KEY_ID": "witness",
        "AWS_SECRET_ACCESS_KEY": "witness-secret",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)
    yield endpoint
    server.stop()


@pytest.fixture
def bucket_witness(settings, s3_server):
    """A bucket witness under the prefix `acme/`; the test reads what the bucket holds through `s3`."""
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    settings.AUDIT_WITNESSES = [f"s3://{BUCKET}/acme"]
    return s3
