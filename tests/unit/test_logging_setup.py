"""The serving log handler: one write per event-loop tick, nothing held past it."""

from __future__ import annotations

import asyncio
import logging

import orjson

from api.logging_setup import JsonFormatter, TickBatchingHandler


class _Stream:
    def __init__(self) -> None:
        self.writes: list[str] = []

    def write(self, text: str) -> None:
        self.writes.append(text)

    def flush(self) -> None:
        return None


def _logger(stream: _Stream) -> logging.Logger:
    handler = TickBatchingHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(f"test-batching-{id(stream)}")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger


def _messages(stream: _Stream) -> list[str]:
    return [orjson.loads(line)["msg"] for text in stream.writes for line in text.splitlines()]


async def test_lines_of_one_tick_are_written_together_at_the_next() -> None:
    stream = _Stream()
    logger = _logger(stream)
    logger.info("one")
    logger.info("two")
    assert stream.writes == []
    await asyncio.sleep(0)
    assert len(stream.writes) == 1
    assert _messages(stream) == ["one", "two"]
    logger.info("three")
    await asyncio.sleep(0)
    assert len(stream.writes) == 2
    assert _messages(stream) == ["one", "two", "three"]


async def test_a_warning_is_written_at_once_after_the_lines_before_it() -> None:
    stream = _Stream()
    logger = _logger(stream)
    logger.info("before")
    logger.warning("trouble")
    assert _messages(stream) == ["before", "trouble"]


def test_outside_a_running_loop_each_line_is_written_at_once() -> None:
    stream = _Stream()
    logger = _logger(stream)
    logger.info("alone")
    assert _messages(stream) == ["alone"]


async def test_a_full_batch_is_written_without_waiting_for_the_tick() -> None:
    stream = _Stream()
    logger = _logger(stream)
    for n in range(TickBatchingHandler.MAX_PENDING):
        logger.info("line %d", n)
    assert len(_messages(stream)) == TickBatchingHandler.MAX_PENDING


def test_each_line_carries_its_own_instant_though_seconds_are_formatted_once() -> None:
    formatter = JsonFormatter()

    def stamp(created: float) -> str:
        record = logging.LogRecord("t", logging.INFO, "", 0, "m", None, None)
        record.created, record.msecs = created, (created % 1) * 1000
        expected = formatter.formatTime(record, "%Y-%m-%dT%H:%M:%S")
        line = orjson.loads(formatter.format(record))
        assert line["ts"] == f"{expected}.{int(record.msecs):03d}"
        return str(line["ts"])

    first = stamp(1_800_000_000.125)
    assert stamp(1_800_000_000.875) != first  # same second, its own milliseconds
    assert stamp(1_800_000_001.5)[:19] != first[:19]  # the next second
    assert stamp(1_800_000_000.25)[:19] == first[:19]  # an earlier second again
