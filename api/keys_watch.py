"""The keys file, watched: a running API takes up an edited file within a few seconds.

A valid file replaces the KeyRing in one assignment; a broken or missing one keeps the keys
in force and logs why (never key material).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from api.auth import KeyRing, KeysFileError, parse_keys

log = logging.getLogger("creditlink.keys")

# A file changed twice within one tick of the filesystem clock, same size (a rotated
# key_sha256 keeps the size), keeps its stat: while the mtime is this recent, read anyway.
_RECENT_SECONDS = 2.0

_Signature = tuple[int, int, int, int]  # device, inode, size, mtime in ns


class KeyFileWatcher:
    """Holds the KeyRing in force for `path` and replaces it when the file changes.

    `load()` reads the file once (raising KeysFileError: a bad file at start is fatal);
    `poll()` looks once; `start()`/`stop()` poll every `interval` seconds on the event loop.
    Whoever must act on a change (open WebSockets) registers with `on_change`; `generation`
    counts the swaps."""

    def __init__(
        self,
        path: Path,
        departments: set[str],
        *,
        allow_plaintext: bool = False,
        interval: float = 1.0,
    ) -> None:
        self.path = path
        self.interval = interval
        self.generation = 0
        self._departments = set(departments)
        self._allow_plaintext = allow_plaintext
        self._keys: KeyRing | None = None
        self._signature: _Signature | None = None
        self._active_sha: str | None = None  # the content whose keys are in force
        self._seen_sha: str | None = None  # the content last examined
        self._problem: str | None = None  # the last refusal logged, so it is logged once
        self._callbacks: list[Callable[[KeyRing], None]] = []
        self._task: asyncio.Task[None] | None = None

    @property
    def keys(self) -> KeyRing:
        if self._keys is None:
            raise RuntimeError("KeyFileWatcher.load() was not called")
        return self._keys

    def load(self) -> KeyRing:
        """The first read; a file that cannot be used raises KeysFileError naming why."""
        signature, content = self._read()
        self._keys = self._parse(content)
        self._signature = signature
        self._active_sha = self._seen_sha = _sha(content)
        return self._keys

    def on_change(self, callback: Callable[[KeyRing], None]) -> Callable[[], None]:
        """Call `callback(new_keys)` on the event loop after each swap; returns the undo."""
        self._callbacks.append(callback)
        return lambda: self._callbacks.remove(callback) if callback in self._callbacks else None

    def poll(self) -> bool:
        """One look at the file; True when a changed, valid file replaced the keys."""
        try:
            signature = _stat(self.path)
        except OSError as exc:
            # forgotten, so the file is examined afresh when it is back
            self._signature = self._seen_sha = None
            self._refuse(f"{self.path}: cannot be read: {exc.strerror}")
            return False
        recent = time.time() - signature[3] / 1e9 < _RECENT_SECONDS
        if signature == self._signature and not recent:
            return False
        try:
            signature, content = self._read()
        except KeysFileError as exc:
            self._refuse(str(exc))
            return False
        self._signature = signature
        content_sha = _sha(content)
        if content_sha == self._seen_sha:
            return False
        # remembered first, so the same broken content is neither parsed nor logged again
        self._seen_sha = content_sha
        if content_sha == self._active_sha:
            self._problem = None  # back to the file in force
            return False
        try:
            keys = self._parse(content)
        except KeysFileError as exc:
            self._refuse(str(exc))
            return False
        self._active_sha = content_sha
        self._swap(keys)
        return True

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="keys-watch")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                # a stat per second, and a small read when it changed: cheap enough for the loop
                self.poll()
            except Exception:
                log.exception("watching the keys file failed; the keys in force are kept")

    def _read(self) -> tuple[_Signature, bytes]:
        try:
            with self.path.open("rb") as f:
                signature = _stat_fd(f.fileno())
                return signature, f.read()
        except FileNotFoundError:
            raise KeysFileError(f"{self.path}: keys file not found") from None
        except OSError as exc:
            raise KeysFileError(f"{self.path}: cannot be read: {exc.strerror}") from None

    def _parse(self, content: bytes) -> KeyRing:
        return parse_keys(
            content, self.path, self._departments, allow_plaintext=self._allow_plaintext
        )

    def _refuse(self, problem: str) -> None:
        if problem != self._problem:
            self._problem = problem
            log.warning("keys file refused; the keys in force are kept", extra={"problem": problem})

    def _swap(self, keys: KeyRing) -> None:
        self._keys = keys
        self._problem = None
        self.generation += 1
        log.info(
            "keys file reloaded",
            extra={
                "path": str(self.path),
                "keys": len(keys.by_digest),
                "generation": self.generation,
            },
        )
        for callback in list(self._callbacks):
            try:
                callback(keys)
            except Exception:
                log.exception("a keys-change callback failed")


def _sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _stat(path: Path) -> _Signature:
    st = path.stat()
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _stat_fd(fd: int) -> _Signature:
    st = os.fstat(fd)
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
