"""A local write-ahead journal for records that must outlive the process that took them.

A check is answered before its record reaches Neo4j (`check_records.RecordBuffer` writes
records in batches). So that a process killed in between loses nothing it answered, each
record is first appended here, and an answer leaves only once the records taken so far
are on disk (`sync`). Appends are gathered and written with one `fdatasync` per group:
concurrent requests share a sync, which costs a fraction of a millisecond on local disk.

Layout: `<directory>/<name>-<pid>-<random>.wal` segment files, each held with an
exclusive `flock` by the process writing it. A segment whose lock can be taken belongs to
no live process: an orphan, left by a crash. `recover` replays an orphan's entries into
Neo4j (with MERGE on the record's id, so rows that had landed are not written twice) and
deletes it. A segment is deleted by its writer once every record in it is in Neo4j.

An entry is `<payload length: u32 LE><crc32 of payload: u32 LE><payload>`, the payload
`[stream index, row]` as JSON. A crash can leave a torn or garbled tail: reading stops at
the first entry that is incomplete or fails its checksum, the file is truncated there,
and the bytes lost are logged.

Whole-machine crash: an entry synced before the answer left is on disk (as far as the
disk honours `fdatasync`) and is replayed when the API starts again on the same data
directory. Only the loss of the disk itself loses records, and then only those not yet
written to Neo4j (normally the last flush interval's).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import struct
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from domain.errors import ServiceUnavailable

log = logging.getLogger(__name__)

HEADER = struct.Struct("<II")
SUFFIX = ".wal"
# a payload longer than this is not one the API writes: a garbled length, not an entry
MAX_ENTRY_BYTES = 64 * 1024 * 1024
SYNC_FAILED = "the audit journal cannot be written; the answer was withheld"


def encode(stream: int, row: dict[str, Any]) -> bytes:
    payload = orjson.dumps([stream, row])
    return HEADER.pack(len(payload), zlib.crc32(payload)) + payload


@dataclass(frozen=True)
class Entry:
    stream: int
    row: dict[str, Any]


@dataclass(frozen=True)
class ReadBack:
    """A segment's whole entries, and how many bytes after the last one were unusable."""

    entries: list[Entry]
    lost_bytes: int
    whole_bytes: int


def read_segment(data: bytes) -> ReadBack:
    """The entries of a segment's bytes, up to the first torn or garbled one."""
    entries: list[Entry] = []
    offset = 0
    while offset + HEADER.size <= len(data):
        length, crc = HEADER.unpack_from(data, offset)
        start = offset + HEADER.size
        end = start + length
        if length > MAX_ENTRY_BYTES or end > len(data):
            break
        payload = data[start:end]
        if zlib.crc32(payload) != crc:
            break
        try:
            stream, row = orjson.loads(payload)
        except (orjson.JSONDecodeError, TypeError, ValueError):
            break
        if not isinstance(stream, int) or not isinstance(row, dict):
            break
        entries.append(Entry(stream, row))
        offset = end
    return ReadBack(entries, len(data) - offset, offset)


@dataclass(eq=False)
class Segment:
    number: int
    path: Path
    fd: int
    size: int = 0
    outstanding: int = 0  # records appended and not yet written to Neo4j


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@dataclass
class _Group:
    """Appends waiting for one write and sync; `done` resolves when it is on disk."""

    frames: dict[int, list[bytes]] = field(default_factory=dict)  # segment number -> frames
    done: asyncio.Future[BaseException | None] | None = None


class Journal:
    """The journal of one record buffer in one process (see the module docstring)."""

    def __init__(self, directory: Path, name: str, *, segment_bytes: int = 4 * 1024 * 1024):
        self.directory = directory
        self.name = name
        self.segment_bytes = segment_bytes
        self._segments: dict[int, Segment] = {}
        self._current: Segment | None = None
        self._numbers = 0
        self._next: _Group | None = None  # appends not yet being written
        self._inflight: _Group | None = None  # appends being written now
        self._writing: asyncio.Task[None] | None = None
        self._closed = False

    # -- appending

    def append(self, stream: int, row: dict[str, Any]) -> int:
        """Add one record; returns its segment's number, to hand back to `written`.
        It is on disk once a `sync` begun after this call returns."""
        segment = self._segment_for_append()
        frame = encode(stream, row)
        segment.size += len(frame)
        segment.outstanding += 1
        group = self._next
        if group is None:
            group = self._next = _Group(done=asyncio.get_running_loop().create_future())
        group.frames.setdefault(segment.number, []).append(frame)
        if self._writing is None:
            self._writing = asyncio.create_task(self._write_groups())
        return segment.number

    async def sync(self) -> None:
        """Return once every record appended so far is on disk; SERVICE_UNAVAILABLE if it
        could not be written."""
        group = self._next or self._inflight  # the newest group holds the latest append
        if group is None:
            return
        assert group.done is not None
        failure = await asyncio.shield(group.done)
        if failure is not None:
            raise ServiceUnavailable(SYNC_FAILED) from failure

    async def _write_groups(self) -> None:
        try:
            while self._next is not None:
                group, self._next = self._next, None
                self._inflight = group
                assert group.done is not None
                try:
                    await asyncio.to_thread(self._write, group.frames)
                except OSError as exc:
                    log.error(
                        "audit journal not written; answers are withheld",
                        extra={"journal": self.name, "reason": str(exc)},
                    )
                    # a partial write may have torn the segment's tail: later appends go
                    # to a new one, and a reader of this one stops at the tear
                    self._current = None
                    group.done.set_result(exc)
                else:
                    group.done.set_result(None)
                finally:
                    self._inflight = None
                self._sweep()
        finally:
            self._writing = None

    def _write(self, frames: dict[int, list[bytes]]) -> None:
        """Runs in a worker thread: write each segment's frames, then sync each."""
        touched = []
        for number, chunks in frames.items():
            segment = self._segments.get(number)
            if segment is None:
                continue  # written to Neo4j and deleted already
            data = b"".join(chunks)
            view = memoryview(data)
            while view:
                view = view[os.write(segment.fd, view) :]
            touched.append(segment.fd)
        for fd in touched:
            os.fdatasync(fd)

    def _segment_for_append(self) -> Segment:
        if self._closed:
            raise ServiceUnavailable(SYNC_FAILED)
        current = self._current
        if current is None or current.size >= self.segment_bytes:
            current = self._current = self._open_segment()
            self._sweep()  # the one it replaces, if all its records are in Neo4j
        return current

    def _open_segment(self) -> Segment:
        self._numbers += 1
        path = self.directory / f"{self.name}-{os.getpid()}-{os.urandom(6).hex()}{SUFFIX}"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC
            fd = os.open(path, flags, 0o600)
        except OSError as exc:
            log.error(
                "audit journal cannot be created; answers are withheld",
                extra={"journal": self.name, "reason": str(exc)},
            )
            raise ServiceUnavailable(f"{SYNC_FAILED}: {exc.strerror}") from exc
        if not _try_lock(fd):  # a fresh name nobody else has: cannot happen, but never share
            os.close(fd)
            raise ServiceUnavailable(SYNC_FAILED)
        segment = Segment(self._numbers, path, fd)
        self._segments[segment.number] = segment
        return segment

    # -- written to Neo4j

    def written(self, numbers: Iterable[int]) -> None:
        """These records (by their segments' numbers, one per record) are in Neo4j."""
        for number, count in Counter(numbers).items():
            segment = self._segments.get(number)
            if segment is not None:
                segment.outstanding -= count
        self._sweep()

    def _busy(self, segment: Segment) -> bool:
        """Frames of it wait to be written, or are being written by the worker thread."""
        return any(
            group is not None and segment.number in group.frames
            for group in (self._next, self._inflight)
        )

    def _sweep(self) -> None:
        """Delete each segment no longer appended to whose records are all in Neo4j."""
        for segment in list(self._segments.values()):
            if (
                segment is not self._current
                and segment.outstanding <= 0
                and not self._busy(segment)
            ):
                self._delete(segment)

    def _delete(self, segment: Segment) -> None:
        del self._segments[segment.number]
        with contextlib.suppress(FileNotFoundError):
            segment.path.unlink()
        os.close(segment.fd)

    @property
    def segment_count(self) -> int:
        return len(self._segments)

    async def close(self) -> None:
        """Wait for pending appends, then delete every segment whose records are all in
        Neo4j; the others stay (unlocked once this process exits) for `recover`."""
        with contextlib.suppress(ServiceUnavailable):
            await self.sync()
        if self._writing is not None:
            await asyncio.shield(self._writing)
        self._closed = True
        self._current = None
        self._sweep()
        for segment in list(self._segments.values()):
            os.close(segment.fd)  # releases the lock: the next start replays it
            del self._segments[segment.number]

    # -- recovery

    def orphans(self) -> Iterator[tuple[Path, int]]:
        """This journal's segments held by no live process, each opened and locked: the
        caller replays it and calls `discard`, or `release` to leave it for later."""
        if not self.directory.is_dir():
            return
        try:
            paths = sorted(self.directory.glob(f"{self.name}-*{SUFFIX}"))
        except OSError as exc:
            raise ServiceUnavailable(f"the audit journal cannot be read: {exc}") from exc
        for path in paths:
            try:
                fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
            except FileNotFoundError:
                continue  # replayed and deleted by another process meanwhile
            except OSError as exc:
                raise ServiceUnavailable(f"the audit journal cannot be read: {exc}") from exc
            if _try_lock(fd) and path.exists():
                yield path, fd
            else:
                os.close(fd)

    @staticmethod
    def read_orphan(path: Path, fd: int) -> ReadBack:
        """Its whole entries; a torn or garbled tail is cut off the file and logged."""
        try:
            with open(fd, "rb", closefd=False) as stream:
                data = stream.read()
            found = read_segment(data)
            if found.lost_bytes:
                os.ftruncate(fd, found.whole_bytes)
                os.fsync(fd)
        except OSError as exc:
            raise ServiceUnavailable(f"the audit journal cannot be read: {exc}") from exc
        if found.lost_bytes:
            log.warning(
                "audit journal truncated after its last whole entry",
                extra={
                    "segment": path.name,
                    "entries_kept": len(found.entries),
                    "bytes_lost": found.lost_bytes,
                },
            )
        return found

    @staticmethod
    def discard(path: Path, fd: int) -> None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        os.close(fd)

    @staticmethod
    def release(fd: int) -> None:
        os.close(fd)
