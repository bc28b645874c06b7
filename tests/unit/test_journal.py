"""The write-ahead journal on its own: framing, group sync, segment lifetimes, orphans."""

from __future__ import annotations

import asyncio
import fcntl
import os
import subprocess
import sys
from pathlib import Path

import pytest

from domain.errors import ServiceUnavailable
from graph_model import journal as journal_module
from graph_model.journal import Journal, encode, read_segment

ROW = {"id": "C0001", "decision": "CLEAR", "at": [1_700_000_000, 5]}


def segments(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.wal"))


def test_entries_read_back_in_order() -> None:
    data = b"".join(encode(n % 2, {**ROW, "id": f"C{n}"}) for n in range(5))
    found = read_segment(data)
    assert [(e.stream, e.row["id"]) for e in found.entries] == [
        (0, "C0"),
        (1, "C1"),
        (0, "C2"),
        (1, "C3"),
        (0, "C4"),
    ]
    assert found.lost_bytes == 0
    assert found.whole_bytes == len(data)


@pytest.mark.parametrize("cut", [1, 7, 8, 20])
def test_a_torn_tail_is_cut_at_the_last_whole_entry(cut: int) -> None:
    whole = encode(0, ROW) + encode(0, {**ROW, "id": "C0002"})
    torn = encode(0, {**ROW, "id": "C0003"})[:cut]
    found = read_segment(whole + torn)
    assert [e.row["id"] for e in found.entries] == ["C0001", "C0002"]
    assert (found.whole_bytes, found.lost_bytes) == (len(whole), cut)


def test_a_garbled_entry_ends_the_segment() -> None:
    first = encode(0, ROW)
    second = bytearray(encode(0, {**ROW, "id": "C0002"}))
    second[-3] ^= 0xFF  # a flipped byte in the payload: the checksum no longer holds
    third = encode(0, {**ROW, "id": "C0003"})
    found = read_segment(first + bytes(second) + third)
    assert [e.row["id"] for e in found.entries] == ["C0001"]
    assert found.lost_bytes == len(second) + len(third)


def test_a_length_past_the_limit_is_garbage_not_an_allocation() -> None:
    header = journal_module.HEADER.pack(journal_module.MAX_ENTRY_BYTES + 1, 0)
    assert read_segment(header + b"x" * 16).entries == []


async def test_appended_records_are_on_disk_once_sync_returns(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "checkRecords")
    for n in range(3):
        journal.append(0, {**ROW, "id": f"C{n}"})
    await journal.sync()
    [segment] = segments(tmp_path)
    assert [e.row["id"] for e in read_segment(segment.read_bytes()).entries] == ["C0", "C1", "C2"]
    await journal.close()


async def test_concurrent_appends_share_syncs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    syncs = 0
    real = os.fdatasync

    def counting(fd: int) -> None:
        nonlocal syncs
        syncs += 1
        real(fd)

    monkeypatch.setattr(journal_module.os, "fdatasync", counting)
    journal = Journal(tmp_path, "checkRecords")

    async def answer(n: int) -> None:
        journal.append(0, {**ROW, "id": f"C{n}"})
        await journal.sync()

    await asyncio.gather(*(answer(n) for n in range(200)))
    # one group while the first sync runs, the rest in the next: never one per record
    assert 1 <= syncs <= 3
    [segment] = segments(tmp_path)
    assert len(read_segment(segment.read_bytes()).entries) == 200
    await journal.close()


async def test_a_failed_write_withholds_the_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    journal = Journal(tmp_path, "checkRecords")
    monkeypatch.setattr(journal_module.os, "fdatasync", full)
    journal.append(0, ROW)
    with pytest.raises(ServiceUnavailable):
        await journal.sync()
    monkeypatch.undo()
    # later appends go to a new segment, whose sync succeeds
    journal.append(0, {**ROW, "id": "C0002"})
    await journal.sync()
    assert len(segments(tmp_path)) == 2
    await journal.close()


async def test_a_segment_is_deleted_once_its_records_are_written(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "checkRecords", segment_bytes=1)  # a segment per record
    numbers = [journal.append(0, {**ROW, "id": f"C{n}"}) for n in range(3)]
    await journal.sync()
    assert len(segments(tmp_path)) == 3
    journal.written(numbers[:2])
    assert len(segments(tmp_path)) == 1  # the current segment stays while appended to
    journal.written(numbers[2:])
    await journal.close()
    assert segments(tmp_path) == []


async def test_close_keeps_the_segments_with_records_not_yet_written(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "checkRecords")
    journal.append(0, ROW)
    await journal.close()
    [left] = segments(tmp_path)
    assert [e.row for e in read_segment(left.read_bytes()).entries] == [ROW]


async def test_a_live_process_segment_is_not_an_orphan(tmp_path: Path) -> None:
    mine = Journal(tmp_path, "checkRecords")
    mine.append(0, ROW)
    await mine.sync()
    other = Journal(tmp_path, "checkRecords")
    assert list(other.orphans()) == []
    await mine.close()  # not written to Neo4j: left, unlocked, for recovery
    [(path, fd)] = list(other.orphans())
    assert [e.row for e in Journal.read_orphan(path, fd).entries] == [ROW]
    Journal.discard(path, fd)
    assert segments(tmp_path) == []


def test_a_killed_writer_leaves_an_orphan_with_a_truncated_tail(tmp_path: Path) -> None:
    """A real second process appends, syncs, adds a torn entry and is SIGKILLed."""
    script = f"""
import asyncio, os, signal
from pathlib import Path
from graph_model.journal import Journal, encode

async def main():
    journal = Journal(Path({str(tmp_path)!r}), "checkRecords")
    for n in range(4):
        journal.append(0, {{"id": f"C{{n}}"}})
    await journal.sync()
    segment = next(iter(journal._segments.values()))
    os.write(segment.fd, encode(0, {{"id": "TORN"}})[:-5])
    os.kill(os.getpid(), signal.SIGKILL)

asyncio.run(main())
"""
    done = subprocess.run([sys.executable, "-c", script], check=False, timeout=60)
    assert done.returncode == -9
    journal = Journal(tmp_path, "checkRecords")
    [(path, fd)] = list(journal.orphans())
    size = path.stat().st_size
    found = Journal.read_orphan(path, fd)
    assert [e.row["id"] for e in found.entries] == ["C0", "C1", "C2", "C3"]
    assert found.lost_bytes > 0
    assert path.stat().st_size == size - found.lost_bytes  # cut to the last whole entry
    Journal.release(fd)
    # released, not discarded: still there for the next recovery
    with open(path, "rb") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    assert len(read_segment(path.read_bytes()).entries) == 4
