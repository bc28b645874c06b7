"""Waiting for a condition, not for a time: a task's progress is polled until it shows."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def reached(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Return once `condition()` holds, letting the loop's other tasks run meanwhile."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not reached within {timeout} s"
        await asyncio.sleep(0.001)
