"""Where media bytes live: the `Storage` protocol, content-addressed keys, and the local disk."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

from core.errors import NotFound

# One path segment of a key: no separators, nothing hidden (temp files start with "."), no "..".
_SEGMENT = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_KIND = re.compile(r"[a-z0-9_-]+")
_EXT = re.compile(r"[a-z0-9]{1,8}")


class Storage(Protocol):
    """Keep media bytes under string keys.

    Keys are relative POSIX paths such as ``orig/ab/cd/<sha256>.jpg``; build them with
    `content_key`. Because keys are content-addressed, writing the same key twice is harmless.
    `LocalStorage` is the embedded default; an S3-compatible implementation can follow behind
    the same protocol (put → PutObject with ``content_type`` as Content-Type, get → GetObject,
    exists → HeadObject, delete → DeleteObject, `path_for` → None so the web layer streams
    from `get` or redirects to a presigned URL instead of using sendfile).
    """

    async def put(self, key: str, data: bytes, *, content_type: str) -> None:
        """Store data under key, replacing any earlier bytes atomically."""

    async def get(self, key: str) -> bytes:
        """Return the bytes under key; raise NotFound when there are none."""

    async def exists(self, key: str) -> bool:
        """Tell whether key holds bytes."""

    async def delete(self, key: str) -> None:
        """Remove key; a missing key is not an error."""

    def path_for(self, key: str) -> Path | None:
        """Return the local file behind key for sendfile, or None where there is no such file."""


def content_key(kind: str, sha256: str, ext: str) -> str:
    """Build the key ``<kind>/<aa>/<bb>/<sha256>.<ext>`` for content with that sha256."""
    if not _KIND.fullmatch(kind):
        raise ValueError(f"bad media kind {kind!r}")
    if not _SHA256.fullmatch(sha256):
        raise ValueError(f"bad sha256 {sha256!r}: want 64 lowercase hex digits")
    if not _EXT.fullmatch(ext):
        raise ValueError(f"bad extension {ext!r}: want lowercase letters/digits, no dot")
    # Two levels of fan-out keep every directory small (65,536 leaves) at millions of photos.
    return f"{kind}/{sha256[:2]}/{sha256[2:4]}/{sha256}.{ext}"


class LocalStorage:
    """Media on the local disk under one root directory.

    Writes are atomic: a temp file in the target directory, fsync, then `os.replace`, so a crash
    never leaves a half-written file under a final key. Files are created mode 0600 (originals
    carry GPS). Disk I/O runs in worker threads, off the event loop. ``content_type`` is not
    stored: files are served by their extension.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    async def put(self, key: str, data: bytes, *, content_type: str) -> None:
        """Store data under key, replacing any earlier bytes atomically."""
        path = self._path(key)
        await asyncio.to_thread(_put_sync, path, data)

    async def get(self, key: str) -> bytes:
        """Return the bytes under key; raise NotFound when there are none."""
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as err:
            raise NotFound(f"media {key!r} not found", message="文件不存在") from err

    async def exists(self, key: str) -> bool:
        """Tell whether key holds bytes."""
        path = self._path(key)
        return await asyncio.to_thread(path.is_file)

    async def delete(self, key: str) -> None:
        """Remove key; a missing key is not an error."""
        path = self._path(key)
        await asyncio.to_thread(_delete_sync, path)

    def path_for(self, key: str) -> Path | None:
        """Return the file path for key (whether or not it exists yet); no disk access."""
        return self._path(key)

    def _path(self, key: str) -> Path:
        """Map key to a path under root; raise ValueError for keys that could escape it."""
        segments = key.split("/")
        # Checked lexically, not with resolve(): an operator may symlink a subtree to another disk.
        if not key or not all(_SEGMENT.fullmatch(s) for s in segments):
            raise ValueError(f"bad media key {key!r}")
        return self.root.joinpath(*segments)


def _put_sync(path: Path, data: bytes) -> None:
    """Write data to path atomically unless it already holds exactly these bytes."""
    with contextlib.suppress(FileNotFoundError, IsADirectoryError):
        # Content-addressed keys repeat on every duplicate upload; skip the rewrite and fsync.
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    """Flush the directory entry so the rename itself survives a power cut."""
    # Some filesystems refuse fsync on a directory; the file data is already safe by then.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _delete_sync(path: Path) -> None:
    """Unlink path if it is a file."""
    with contextlib.suppress(FileNotFoundError, IsADirectoryError, NotADirectoryError):
        path.unlink()
