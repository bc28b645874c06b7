"""API keys files as production holds them: one `[[keys]]` entry per key, its SHA-256
digest (`key_sha256`) in place of the key, the file readable by its owner only."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path

# name -> (role, department or None, the key itself)
KeyTable = Mapping[str, tuple[str, str | None, str]]


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string


def key_entry(name: str, role: str, department: str | None, key: str) -> str:
    """One `[[keys]]` entry holding `key`'s digest."""
    digest = hashlib.sha256(key.encode()).hexdigest()
    lines = [
        "[[keys]]",
        f"name = {_toml_string(name)}",
        f'key_sha256 = "{digest}"',
        f"role = {_toml_string(role)}",
    ]
    if department:
        lines.append(f"department = {_toml_string(department)}")
    return "\n".join(lines) + "\n"


def keys_toml(table: KeyTable) -> str:
    return "".join(key_entry(name, *spec) for name, spec in table.items())


def write_text_private(path: Path, text: str) -> Path:
    """`text` into `path`, created 0600 (an existing file is rewritten in place, made 0600)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        os.fchmod(out.fileno(), 0o600)
        out.write(text)
    return path


def write_keys_file(path: Path, table: KeyTable) -> Path:
    """A keys file at `path` with one digest entry per row of `table`, created 0600."""
    return write_text_private(path, keys_toml(table))
