"""Files that hold a secret: made once, atomically and private, and read only when private.

The contact hash key and the exchange signing key live in the data dir (or where a setting
says). Several processes may start at once on a fresh data dir, and each must end up with
the same secret; none may ever read a file that is empty, half written, a symlink planted
by someone else, or readable by others.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path


class SecretFileError(ValueError):
    """A secret file that cannot be used; the message names the file, never its content."""


def create_secret_file(path: Path, content: bytes) -> None:
    """Write `content` to `path` unless another process does so first.

    The content goes to a private temporary file (O_CREAT|O_EXCL, 0600) that is then
    hard-linked into place, so `path` never exists empty or half written: a process
    racing this one either finds no file or the whole of one, and the loser's is dropped."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileExistsError):  # another process's came first: use it
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def read_secret_file(path: Path, what: str, *, missing: str, max_bytes: int = 4096) -> bytes:
    """The content of `path`, refused when it is not a private regular file.

    `what` names the file in messages ("contact hash key file"); `missing` says what to
    do when there is none."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        raise SecretFileError(f"{path}: no {what} ({missing})") from None
    except OSError as exc:
        raise SecretFileError(f"{path}: cannot open the {what}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise SecretFileError(f"{path}: the {what} is not a regular file")
        if info.st_mode & 0o077:
            raise SecretFileError(
                f"{path}: the {what} is readable by others "
                f"(mode {stat.S_IMODE(info.st_mode):04o}); chmod 600 it"
            )
        content = f.read(max_bytes)
    if not content.strip():
        raise SecretFileError(f"{path}: the {what} is empty")
    return content
