"""bench.harness.cpu: a server's CPU is that of its whole process tree.

Real processes: a parent that spawns workers the way uvicorn's supervisor does
(multiprocessing's spawn context, which starts a resource tracker beside them), and
workers with processes of their own, as the analytics pool has.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.harness import cpu
from bench.harness.run import live_workers, pending_records

BURN_S = 0.4
# /proc/<pid>/stat counts in clock ticks, the process's own clock in nanoseconds
TICKS_SLACK_S = 0.05

# The parent reads commands on stdin and answers on stdout, so the test sets every step
# off itself and waits for the answer, never for a length of time.
PARENT = textwrap.dedent(
    """
    import multiprocessing, sys, time

    def burn(seconds):
        while time.process_time() < seconds:
            pass

    def stay(conn):
        try:
            conn.recv()  # until the other end is closed
        except EOFError:
            pass

    def burn_and_stay(seconds, ready):
        burn(seconds)
        ready.send("burnt")
        stay(ready)

    def worker(seconds, ready):
        # a worker whose work is done by a process of its own, as the analytics pool's
        ctx = multiprocessing.get_context("spawn")
        here, there = ctx.Pipe()
        child = ctx.Process(target=burn_and_stay, args=(seconds, there))
        child.start()
        ready.send((child.pid, here.recv()))
        stay(ready)
        here.close()

    if __name__ == "__main__":
        ctx = multiprocessing.get_context("spawn")
        keep = []
        for line in sys.stdin:
            command = line.strip()
            if command == "grandchild":
                here, there = ctx.Pipe()
                child = ctx.Process(target=worker, args=(float(sys.argv[1]), there))
                child.start()
                grandchild, _ = here.recv()
                keep.append(here)
                print(child.pid, grandchild, flush=True)
            elif command == "reaped":
                child = ctx.Process(target=burn, args=(float(sys.argv[1]),))
                child.start()
                child.join()  # reaped: its time is in this process's cutime/cstime now
                print(child.exitcode, flush=True)
        for conn in keep:  # stdin closed: let the workers, and so their children, end
            conn.close()
    """
)


@pytest.fixture
def parent(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    # a file, not `-c`: spawned children import the parent's main module to find their target
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(BURN_S)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc
    finally:
        assert proc.stdin is not None
        proc.stdin.close()  # its loop ends, and its children with it
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()


def _ask(proc: subprocess.Popen[str], command: str) -> list[str]:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(command + "\n")
    proc.stdin.flush()
    return proc.stdout.readline().split()


def test_a_servers_cpu_includes_its_workers_processes_and_not_the_resource_tracker(
    parent: subprocess.Popen[str],
) -> None:
    child, grandchild = (int(x) for x in _ask(parent, "grandchild"))

    found = {s.pid for s in cpu.tree(parent.pid)}
    assert found == {parent.pid, child, grandchild}
    with_tracker = cpu.tree(parent.pid, tracker=True)
    (tracker,) = [s.pid for s in with_tracker if s.pid not in found]
    with open(f"/proc/{tracker}/cmdline", "rb") as f:
        assert b"multiprocessing.resource_tracker" in f.read()

    spent = cpu.snapshot({"api": parent.pid})["api"]
    assert spent is not None and spent >= BURN_S - TICKS_SLACK_S
    # the grandchild's time shows as its own, busiest first
    by_process = cpu.tree_seconds(parent.pid)
    assert by_process[grandchild] == max(by_process.values())


def test_a_process_that_ended_between_two_readings_still_counts(
    parent: subprocess.Popen[str],
) -> None:
    before = cpu.snapshot({"api": parent.pid})["api"]
    assert _ask(parent, "reaped") == ["0"]
    after = cpu.snapshot({"api": parent.pid})["api"]
    assert before is not None and after is not None
    assert after - before >= BURN_S - TICKS_SLACK_S


def test_a_gone_process_has_no_reading() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    assert cpu.snapshot({"api": proc.pid}) == {"api": None}
    assert cpu.tree(proc.pid) == []


def test_cores_by_process_busiest_first() -> None:
    before = {1: 10.0, 2: 5.0}
    after = {1: 10.5, 2: 6.8, 3: 0.1}  # 3 started inside the window
    assert cpu.cores_by_process(before, after, 2.0) == [0.9, 0.25, 0.05]


# what /metrics of one process and of two workers (prometheus_client's multiprocess
# mode, gauges one sample per live worker) say
ONE_PROCESS = """\
# HELP creditlink_check_records_pending Check records answered but not yet written to Neo4j
# TYPE creditlink_check_records_pending gauge
creditlink_check_records_pending 12.0
# HELP creditlink_worker_started_seconds Unix time this API process started serving
# TYPE creditlink_worker_started_seconds gauge
creditlink_worker_started_seconds 1.7e+09
"""
TWO_WORKERS = """\
# HELP creditlink_check_records_pending Multiprocess metric
# TYPE creditlink_check_records_pending gauge
creditlink_check_records_pending{pid="4101"} 3.0
creditlink_check_records_pending{pid="4102"} 4.0
# HELP creditlink_worker_started_seconds Multiprocess metric
# TYPE creditlink_worker_started_seconds gauge
creditlink_worker_started_seconds{pid="4101"} 1.7e+09
creditlink_worker_started_seconds{pid="4102"} 1.7e+09
# HELP creditlink_access_records_pending Multiprocess metric
# TYPE creditlink_access_records_pending gauge
creditlink_access_records_pending{pid="4101"} 9.0
"""


def test_pending_records_are_summed_over_the_workers() -> None:
    assert pending_records(ONE_PROCESS) == 12
    assert pending_records(TWO_WORKERS) == 7


def test_live_workers_counts_one_sample_per_worker() -> None:
    assert live_workers(ONE_PROCESS) == 1
    assert live_workers(TWO_WORKERS) == 2
