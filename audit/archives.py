"""Where retention archives go (settings.RETENTION_ARCHIVE), outside the database.

One kind today, `file:///absolute/dir`: a directory (another disk, a mounted share, a WORM volume). An archive is
written under a temporary name, flushed to disk, then renamed, so a name in the directory is always a whole
archive. Another kind (an S3-compatible bucket) is another class with the same three methods and a scheme in
`parse`: the retention path only writes, reads back and names archives through them.
"""

import os
import tempfile
import urllib.parse
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import BinaryIO, Protocol

from django.conf import settings


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


def _path(location: str) -> Path:
    return Path(urllib.parse.unquote(urllib.parse.urlsplit(location).path))


def parse(uri: str) -> Archive:
    if not uri.startswith("file:///"):
        raise ArchiveError(f"{uri!r} is not an archive: use file:///absolute/dir")
    return DirectoryArchive(_path(uri))


def configured() -> Archive | None:
    """The configured archive, or None: with nowhere to archive, retention deletes nothing."""
    return parse(settings.RETENTION_ARCHIVE) if settings.RETENTION_ARCHIVE else None
