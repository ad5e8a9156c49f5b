"""An S3-compatible bucket (AWS S3, MinIO, Ceph, R2…) that audit witnesses and retention archives write to.

boto3 reads the endpoint and credentials from the standard AWS settings (AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL,
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION, or an instance role), so Regent has none of its own.
"""

import boto3
from botocore.config import Config


class Bucket:
    """`s3://bucket/prefix`: keys under the prefix, and a client made on first use (parsing the setting at start
    must not need the network)."""

    def __init__(self, bucket: str, prefix: str, *, timeout_seconds: float, attempts: int) -> None:
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self._config = Config(
            connect_timeout=timeout_seconds, read_timeout=timeout_seconds, retries={"max_attempts": attempts}
        )
        self._client = None

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    @property
    def client(self):
        if self._client is None:
            self._client = boto3.client("s3", config=self._config)
        return self._client
