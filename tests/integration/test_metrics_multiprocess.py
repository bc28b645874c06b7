"""/metrics across worker processes: prometheus_client's multiprocess mode, in real
processes (it chooses its mode at import, from the environment).

Each worker here is a Python process started with PROMETHEUS_MULTIPROC_DIR set, as the
supervisor of `CREDITLINK_WORKERS` starts them, running `api.metrics.Metrics` in an event
loop with its periodic refresh, and driven over its stdin: it counts, sets its record
backlog, renders, stops its metrics (as the app's lifespan ends) or churns through labels
when told. Any of them renders what all of them counted. These tests need no database.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from api.settings import PROJECT_ROOT
from testkit.metrics import Samples, label_values, parse_metrics, total, value

ERRORS = "creditlink_graphql_errors_total"
LATENCY = "creditlink_graphql_operation_seconds"
PENDING = "creditlink_check_records_pending"
STARTED = "creditlink_worker_started_seconds"
GC_PAUSES = "creditlink_python_gc_pause_seconds"

# a hang, not a speed: no command here takes more than a moment
REPLY_TIMEOUT_S = 60.0

WORKER = """
import asyncio, gc, json, os, sys

from api.metrics import Metrics


class Backlog:  # a record buffer's report, set by the test
    pending = 0
    oldest_age = 0.0
    blocked = None


async def main() -> None:
    metrics = Metrics()
    backlog = Backlog()
    metrics.watch_records(backlog)
    metrics.watch_access_records(backlog)
    unwatch_gc = metrics.watch_gc()
    metrics.start()
    print(json.dumps({"pid": os.getpid()}), flush=True)
    while line := await asyncio.to_thread(sys.stdin.readline):
        command = json.loads(line)
        reply = {}
        if command["do"] == "count":
            for _ in range(command["n"]):
                metrics.errors.labels("BAD_USER_INPUT").inc()
                metrics.operation_latency.labels("check").observe(0.003)
        elif command["do"] == "backlog":
            backlog.pending = command["n"]
        elif command["do"] == "render":
            reply = {"text": metrics.render().decode()}
        elif command["do"] == "churn":
            # a collection at nearly every allocation, while new labels are being made
            thresholds = gc.get_threshold()
            gc.set_threshold(1, 1, 1)
            try:
                for n in range(command["n"]):
                    metrics.observe_query(f"query-{n}", 0.001)
            finally:
                gc.set_threshold(*thresholds)
        elif command["do"] == "stop":  # as the app's lifespan ends, before the process does
            await metrics.stop()
            unwatch_gc()
        print(json.dumps(reply), flush=True)


asyncio.run(main())
"""


class Worker:
    """One worker process and the replies it prints, one JSON line per command."""

    def __init__(self, directory: Path, log: Path) -> None:
        self.log = log
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
        with log.open("w") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-c", WORKER],
                cwd=PROJECT_ROOT,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
        self._replies: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.pid: int = self._reply()["pid"]
        assert self.pid == self.process.pid

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._replies.put(line)
        self._replies.put("")  # the worker is gone

    def _reply(self) -> dict[str, Any]:
        try:
            line = self._replies.get(timeout=REPLY_TIMEOUT_S)
        except queue.Empty:
            line = ""
        if not line:
            tail = self.log.read_text(errors="replace")[-3000:]
            raise AssertionError(f"worker {self.process.pid} did not answer:\n{tail}")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def ask(self, do: str, **arguments: Any) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"do": do, **arguments}) + "\n")
        self.process.stdin.flush()
        return self._reply()

    def count(self, n: int) -> None:
        self.ask("count", n=n)

    def render(self) -> Samples:
        return parse_metrics(self.ask("render")["text"])

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


@pytest.fixture(autouse=True)
def clean_graph() -> None:
    """In place of the integration suite's wipe of the database: none is used here."""


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[[], Worker]]:
    """Starts workers sharing one fresh metrics directory; all are gone after the test."""
    directory = tmp_path / "metrics"
    directory.mkdir()
    started: list[Worker] = []

    def start() -> Worker:
        worker = Worker(directory, tmp_path / f"worker-{len(started)}.log")
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.close()


def pids(samples: Samples, name: str = STARTED) -> set[int]:
    return {int(pid) for pid in label_values(samples, name, "pid")}


def test_counts_are_summed_over_the_workers_and_gauges_say_which_worker(
    spawn: Callable[[], Worker],
) -> None:
    first, second = spawn(), spawn()
    first.count(3)
    second.count(5)
    first.ask("backlog", n=7)
    second.ask("backlog", n=11)

    rendered = first.render()
    assert total(rendered, ERRORS, code="BAD_USER_INPUT") == 8
    assert value(rendered, f"{LATENCY}_count", operation="check") == 8
    assert value(rendered, f"{LATENCY}_bucket", operation="check", le="0.005") == 8
    assert value(rendered, f"{LATENCY}_bucket", operation="check", le="0.0025") == 0
    assert pids(rendered) == {first.pid, second.pid}
    assert pids(rendered, PENDING) == {first.pid, second.pid}
    # the rendering worker's own gauges are read as it renders
    assert value(rendered, PENDING, pid=str(first.pid)) == 7

    # another worker's gauges come from its periodic refresh
    deadline = time.monotonic() + 30
    while value(rendered, PENDING, pid=str(second.pid)) != 11 and time.monotonic() < deadline:
        time.sleep(0.1)
        rendered = first.render()
    assert value(rendered, PENDING, pid=str(second.pid)) == 11
    # and any worker renders the same sums
    assert total(second.render(), ERRORS, code="BAD_USER_INPUT") == 8


def test_a_killed_workers_gauges_leave_and_its_counts_stay(spawn: Callable[[], Worker]) -> None:
    survivor, doomed = spawn(), spawn()
    survivor.count(2)
    doomed.count(4)
    assert pids(survivor.render()) == {survivor.pid, doomed.pid}

    os.kill(doomed.pid, signal.SIGKILL)
    # dead but not reaped yet (poll() would reap it), as a supervisor may leave it until
    # after the next scrape
    deadline = time.monotonic() + 30
    while not _is_zombie(doomed.pid):
        assert time.monotonic() < deadline, "the killed worker never died"
        time.sleep(0.05)

    rendered = survivor.render()
    assert pids(rendered) == {survivor.pid}
    assert pids(rendered, PENDING) == {survivor.pid}
    assert total(rendered, ERRORS, code="BAD_USER_INPUT") == 6
    assert value(rendered, f"{LATENCY}_count", operation="check") == 6

    # its replacement adds to the totals, which never went back
    doomed.close()
    replacement = spawn()
    replacement.count(1)
    rendered = replacement.render()
    assert pids(rendered) == {survivor.pid, replacement.pid}
    assert total(rendered, ERRORS, code="BAD_USER_INPUT") == 7


def test_a_worker_that_stops_takes_its_gauges_and_leaves_its_counts(
    spawn: Callable[[], Worker],
) -> None:
    staying, leaving = spawn(), spawn()
    leaving.count(5)
    leaving.ask("stop")
    rendered = staying.render()
    assert leaving.process.poll() is None  # gone from the gauges before its process ends
    assert pids(rendered) == {staying.pid}
    assert total(rendered, ERRORS, code="BAD_USER_INPUT") == 5


def test_collections_while_labels_are_made_neither_hang_a_worker_nor_go_unseen(
    spawn: Callable[[], Worker],
) -> None:
    worker = spawn()
    worker.ask("churn", n=200)  # does not come back if a GC pause waited for the lock
    rendered = worker.render()
    assert total(rendered, f"{GC_PAUSES}_count") > 0
    assert value(rendered, "creditlink_neo4j_query_seconds_count", query="query-199") == 1


def _is_zombie(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[-1].split()[:1] == ["Z"]
