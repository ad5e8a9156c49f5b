"""Witnesses: places outside Regent's database that keep copies of the chain's signed checkpoints.

Configured by AUDIT_WITNESSES, a comma-separated list of
- `file:///absolute/dir`: a directory (on another disk, a mounted share, a WORM volume). Each checkpoint is
  written as `checkpoint-<size>-<time>.json`, and `latest.json` replaced atomically.
- `s3://bucket/prefix`: an S3-compatible bucket (audit.buckets: boto3 and the standard AWS settings). The same
  two objects as a directory: `<prefix>/checkpoint-<size>-<time>.json` and `<prefix>/latest.json` (an S3 PUT
  replaces an object whole). Turn on the bucket's Object Lock or versioning, with credentials that cannot
  delete, so that the database's administrators cannot rewrite what it holds.
- `https://host/path` (or `http://`): a signed webhook. Each checkpoint is POSTed as JSON with the header
  `X-Regent-Signature: ed25519=<base64>`, the organisation's signature over the exact body; a GET of the
  same URL is expected to answer the newest checkpoint the receiver holds (404 when it holds none).
A witness that cannot be read or written raises WitnessError with a sentence saying why.
"""

import base64
import json
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Protocol

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from audit.buckets import Bucket
from audit.evidence import signing_key
from audit.hashing import canonical

TIMEOUT_SECONDS = 5
SIGNATURE_HEADER = "X-Regent-Signature"


class WitnessError(Exception):
    pass


class Witness(Protocol):
    name: str

    def publish(self, document: dict) -> None: ...

    def latest(self) -> dict | None: ...


class DirectoryWitness:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.name = f"directory {directory}"

    def publish(self, document: dict) -> None:
        stamp = document["signed_at"].replace(":", "").replace("-", "").replace("+0000", "Z")
        body = canonical(document)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            (self.directory / f"checkpoint-{document['size']}-{stamp}.json").write_text(body, encoding="utf-8")
            self._replace_latest(body)
        except OSError as error:
            raise WitnessError(f"cannot write to {self.directory}: {error.strerror or error}") from error

    def _replace_latest(self, body: str) -> None:
        handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".latest-", suffix=".json")
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(body)
        os.replace(temporary, self.directory / "latest.json")

    def latest(self) -> dict | None:
        path = self.directory / "latest.json"
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            raise WitnessError(f"cannot read {path}: {error}") from error


class BucketWitness:
    def __init__(self, bucket: str, prefix: str) -> None:
        self.store = Bucket(bucket, prefix, timeout_seconds=TIMEOUT_SECONDS, attempts=2)
        self.name = f"bucket s3://{bucket}/{self.store.prefix}".rstrip("/")

    def publish(self, document: dict) -> None:
        stamp = document["signed_at"].replace(":", "").replace("-", "").replace("+0000", "Z")
        body = canonical(document).encode()
        for name in (f"checkpoint-{document['size']}-{stamp}.json", "latest.json"):
            try:
                self.store.client.put_object(Bucket=self.store.bucket, Key=self.store.key(name), Body=body)
            except (ClientError, BotoCoreError) as error:
                raise WitnessError(f"{self.name} did not take {name}: {error}") from error

    def latest(self) -> dict | None:
        try:
            answer = self.store.client.get_object(Bucket=self.store.bucket, Key=self.store.key("latest.json"))
            return json.loads(answer["Body"].read())
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise WitnessError(f"{self.name} refused the read: {error}") from error
        except BotoCoreError as error:
            raise WitnessError(f"{self.name} could not be reached: {error}") from error
        except ValueError as error:
            raise WitnessError(f"{self.name}: latest.json is not a checkpoint: {error}") from error


class WebhookWitness:
    def __init__(self, url: str) -> None:
        self.url = url
        self.name = f"webhook {urllib.parse.urlsplit(url).netloc}"

    def publish(self, document: dict) -> None:
        body = canonical(document).encode()
        signature = base64.b64encode(signing_key().sign(body)).decode()
        request = urllib.request.Request(  # noqa: S310 (http and https only, checked in `configured`)
            self.url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", SIGNATURE_HEADER: f"ed25519={signature}"},
        )
        self._send(request)

    def latest(self) -> dict | None:
        request = urllib.request.Request(self.url, headers={"Accept": "application/json"})  # noqa: S310
        body = self._send(request)
        return None if body is None else json.loads(body)

    def _send(self, request: urllib.request.Request) -> bytes | None:
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                return response.read()
        except urllib.error.HTTPError as error:
            if error.code == 404 and request.get_method() == "GET":
                return None
            raise WitnessError(f"{self.url} answered {error.code}") from error
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise WitnessError(f"{self.url} could not be reached: {getattr(error, 'reason', error)}") from error


def parse(entry: str) -> Witness:
    """A witness from one AUDIT_WITNESSES entry; ValueError naming what is wrong with it."""
    scheme = urllib.parse.urlsplit(entry).scheme
    if scheme == "file":
        path = Path(urllib.parse.unquote(urllib.parse.urlsplit(entry).path))
        if not path.is_absolute():
            raise ValueError(f"{entry!r}: a directory witness needs an absolute path (file:///var/lib/witness)")
        return DirectoryWitness(path)
    if scheme in ("http", "https"):
        return WebhookWitness(entry)
    if scheme == "s3":
        parts = urllib.parse.urlsplit(entry)
        if not parts.netloc:
            raise ValueError(f"{entry!r}: a bucket witness names its bucket (s3://bucket/prefix)")
        return BucketWitness(parts.netloc, parts.path)
    raise ValueError(f"{entry!r} is not a witness: use file:///absolute/dir, s3://bucket/prefix or https://host/path")


def configured() -> list[Witness]:
    return [parse(entry) for entry in settings.AUDIT_WITNESSES]
