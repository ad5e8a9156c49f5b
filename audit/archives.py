"""Where retention archives go (settings.RETENTION_ARCHIVE), outside the database.

Two kinds, with the same three methods (the retention path only writes, reads back and names archives through them):
- `file:///absolute/dir`: a directory (another disk, a mounted share, a WORM volume). An archive is written under a
  temporary name, flushed to disk, then renamed, so a name in the directory is always a whole archive.
- `s3://bucket/prefix`: an S3-compatible bucket, through boto3 with the standard AWS settings (as the audit
  witnesses, audit.witnesses). An archive is written to a local temporary file, then uploaded: an object appears
  only once its upload completes, whole. It is read back by downloading it again. Give the bucket Object Lock or
  versioning, and Regent credentials that cannot delete.
"""

import os
import tempfile
import urllib.parse
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import BinaryIO, Protocol

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from audit.buckets import Bucket

TIMEOUT_SECONDS = 30


class ArchiveError(Exception):
    pass


class Archive(Protocol):
    def writer(self, name: str) -> AbstractContextManager[BinaryIO]: ...

    def reader(self, location: str) -> BinaryIO: ...

    def location(self, name: str) -> str: ...


class DirectoryArchive:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def location(self, name: str) -> str:
        return (self.directory / name).as_uri()

    @contextmanager
    def writer(self, name: str) -> Iterator[BinaryIO]:
        """A file to write the archive `name` to; it appears under that name only once whole and on disk."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".writing-", suffix=".tmp")
        except OSError as error:
            raise ArchiveError(f"cannot write to {self.directory}: {error.strerror or error}") from error
        try:
            with os.fdopen(handle, "wb") as file:
                yield file
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.directory / name)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def reader(self, location: str) -> BinaryIO:
        path = _path(location)
        try:
            return path.open("rb")
        except OSError as error:
            raise ArchiveError(f"cannot read {path}: {error.strerror or error}") from error


class BucketArchive:
    def __init__(self, bucket: str, prefix: str) -> None:
        self.store = Bucket(bucket, prefix, timeout_seconds=TIMEOUT_SECONDS, attempts=3)

    def location(self, name: str) -> str:
        return f"s3://{self.store.bucket}/{self.store.key(name)}"

    @contextmanager
    def writer(self, name: str) -> Iterator[BinaryIO]:
        """A local file to write the archive to; uploaded as `name` once whole (nothing is uploaded on an error)."""
        with tempfile.TemporaryFile() as file:
            yield file
            file.flush()
            file.seek(0)
            try:
                self.store.client.upload_fileobj(file, self.store.bucket, self.store.key(name))
            except (ClientError, BotoCoreError) as error:
                raise ArchiveError(f"s3://{self.store.bucket} did not take {name}: {error}") from error

    def reader(self, location: str) -> BinaryIO:
        """The archive at `location`, downloaded to a local temporary file (deleted when closed)."""
        parts = urllib.parse.urlsplit(location)
        file = tempfile.TemporaryFile()  # noqa: SIM115 (returned open: the caller reads it and closes it)
        try:
            self.store.client.download_fileobj(parts.netloc, parts.path.lstrip("/"), file)
        except (ClientError, BotoCoreError) as error:
            file.close()
            raise ArchiveError(f"cannot read {location}: {error}") from error
        file.seek(0)
        return file


def _path(location: str) -> Path:
    return Path(urllib.parse.unquote(urllib.parse.urlsplit(location).path))


def parse(uri: str) -> Archive:
    parts = urllib.parse.urlsplit(uri)
    if parts.scheme == "s3" and parts.netloc:
        return BucketArchive(parts.netloc, parts.path)
    if not uri.startswith("file:///"):
        raise ArchiveError(f"{uri!r} is not an archive: use file:///absolute/dir or s3://bucket/prefix")
    return DirectoryArchive(_path(uri))


def configured() -> Archive | None:
    """The configured archive, or None: with nowhere to archive, retention deletes nothing."""
    return parse(settings.RETENTION_ARCHIVE) if settings.RETENTION_ARCHIVE else None
