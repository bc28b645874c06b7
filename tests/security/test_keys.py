"""The keys file: digests by default, 16-character keys, private demo files, reloads.

No database: load_keys / load_keyring / write_demo_keys / KeyFileWatcher on files in tmp_path.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from api import keys_watch
from api.app import ensure_demo_keys, load_keyring
from api.auth import (
    DEMO_KEYS,
    PUBLIC,
    KeyRing,
    KeysFileError,
    Principal,
    Role,
    load_keys,
    write_demo_keys,
)
from api.keys_watch import KeyFileWatcher
from api.settings import Settings
from domain.errors import Unauthenticated

DEPARTMENTS = {"wz-tax", "wz-public-resources"}
LONG_KEY = "a-plain-key-of-24-chars!"


def sha(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def entry(name: str, role: str = "REGULATOR", **fields: str) -> str:
    lines = ["[[keys]]", f'name = "{name}"', f'role = "{role}"']
    lines += [f'{field} = "{value}"' for field, value in fields.items()]
    return "\n".join(lines) + "\n"


def keys_file(tmp_path: Path, *entries: str) -> Path:
    path = tmp_path / "keys.toml"
    path.write_text("\n".join(entries), encoding="utf-8")
    return path


def bearer(key: str) -> str:
    return f"Bearer {key}"


# ---- plain-text keys ---------------------------------------------------------------------


def test_a_plain_key_is_refused_by_default_naming_the_entry(tmp_path: Path) -> None:
    path = keys_file(
        tmp_path, entry("hashed", key_sha256=sha("x" * 20)), entry("portal", key=LONG_KEY)
    )
    with pytest.raises(KeysFileError) as refused:
        load_keys(path, DEPARTMENTS)
    message = str(refused.value)
    assert str(path) in message and "keys[1] (portal)" in message
    assert "CREDITLINK_ALLOW_PLAINTEXT_KEYS=true" in message and "key_sha256" in message
    assert LONG_KEY not in message


def test_the_setting_lets_plain_keys_in(tmp_path: Path) -> None:
    path = keys_file(tmp_path, entry("portal", key=LONG_KEY))
    assert Settings.from_env({}).allow_plaintext_keys is False
    allowed = Settings.from_env(
        {"CREDITLINK_ALLOW_PLAINTEXT_KEYS": "true", "CREDITLINK_API_KEYS_FILE": str(path)}
    )
    assert allowed.allow_plaintext_keys is True
    # the app's own path from settings to keys
    with pytest.raises(KeysFileError, match=r"keys\[0\] \(portal\): a plain-text 'key'"):
        load_keyring(Settings(api_keys_file=path), DEPARTMENTS)
    ring = load_keyring(allowed, DEPARTMENTS).keys
    principal = ring.authenticate(bearer(LONG_KEY))
    assert (principal.name, principal.role) == ("portal", Role.REGULATOR)


@pytest.mark.parametrize("allow_plaintext", [False, True])
def test_a_key_of_15_characters_is_refused_naming_it(tmp_path: Path, allow_plaintext: bool) -> None:
    short = "k" * 15
    path = keys_file(tmp_path, entry("long", key_sha256=sha(LONG_KEY)), entry("tiny", key=short))
    with pytest.raises(KeysFileError) as refused:
        load_keys(path, DEPARTMENTS, allow_plaintext=allow_plaintext)
    message = str(refused.value)
    assert "keys[1] (tiny)" in message and "shorter than 16 characters" in message
    assert short not in message
    if allow_plaintext:  # the boundary: 16 characters are enough
        path = keys_file(tmp_path, entry("edge", key="k" * 16))
        ring = load_keys(path, DEPARTMENTS, allow_plaintext=True)
        assert ring.authenticate(bearer("k" * 16)).name == "edge"


@pytest.mark.parametrize(
    "digest",
    ["g" * 64, sha(LONG_KEY)[:63], sha(LONG_KEY) + "0", " " + sha(LONG_KEY)[1:], ""],
    ids=["not-hex", "63-chars", "65-chars", "a-space", "empty"],
)
def test_key_sha256_must_be_64_hex_characters(tmp_path: Path, digest: str) -> None:
    path = keys_file(
        tmp_path, entry("ok", key_sha256=sha(LONG_KEY)), entry("bad", key_sha256=digest)
    )
    with pytest.raises(
        KeysFileError, match=r"keys\[1\] \(bad\): key_sha256 must be 64 hexadecimal"
    ):
        load_keys(path, DEPARTMENTS)
    # hex in either case is the same key
    path = keys_file(tmp_path, entry("upper", key_sha256=sha(LONG_KEY).upper()))
    assert load_keys(path, DEPARTMENTS).authenticate(bearer(LONG_KEY)).name == "upper"


# ---- the generated demo keys -------------------------------------------------------------


def test_demo_keys_are_created_private_and_hold_digests_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    created: list[tuple[str, int, int]] = []
    real_open = os.open

    def spying_open(path: Any, flags: int, mode: int = 0o777, **kwargs: Any) -> int:
        fd = real_open(path, flags, mode, **kwargs)
        if flags & os.O_CREAT and os.fspath(path).startswith(str(tmp_path)):
            # the mode before a byte is written: no window where the file is readable by others
            created.append((os.fspath(path), flags, stat.S_IMODE(os.fstat(fd).st_mode)))
        return fd

    monkeypatch.setattr(os, "open", spying_open)
    previous = os.umask(0)  # the mode must come from the create call, not from the umask
    try:
        toml, text = tmp_path / "data" / "api-keys.toml", tmp_path / "data" / "demo-api-keys.txt"
        generated = write_demo_keys(toml, text)
    finally:
        os.umask(previous)
    monkeypatch.undo()

    assert [(p, mode) for p, _, mode in created] == [(str(toml), 0o600), (str(text), 0o600)]
    assert all(flags & os.O_EXCL for _, flags, _ in created)
    assert stat.S_IMODE(toml.stat().st_mode) == 0o600
    assert stat.S_IMODE(text.stat().st_mode) == 0o600

    content = toml.read_text(encoding="utf-8")
    assert "\nkey =" not in content and content.count("key_sha256 =") == len(generated) == len(
        DEMO_KEYS
    )
    ring = load_keys(toml, {"wz-public-resources", "wz-intermediate-court", "wz-tax"})
    lines = text.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(generated)
    for demo, line in zip(generated, lines, strict=True):
        assert demo.key not in content and len(demo.key) >= 16
        assert line.split() == [demo.name, demo.role.value, demo.key]
        principal = ring.authenticate(bearer(demo.key))
        assert (principal.name, principal.role) == (demo.name, demo.role)
        assert demo.key not in repr(demo)


def test_demo_keys_never_overwrite_an_existing_file(tmp_path: Path) -> None:
    toml, text = tmp_path / "api-keys.toml", tmp_path / "demo-api-keys.txt"
    toml.write_text("# the operator's own keys\n", encoding="utf-8")
    with pytest.raises(FileExistsError):
        write_demo_keys(toml, text)
    assert toml.read_text(encoding="utf-8") == "# the operator's own keys\n"
    assert not text.exists()


def test_demo_keys_do_not_follow_a_planted_symlink(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.toml"
    target.write_text("untouched\n", encoding="utf-8")
    toml = tmp_path / "api-keys.toml"
    toml.symlink_to(target)
    with pytest.raises(FileExistsError):
        write_demo_keys(toml, tmp_path / "demo-api-keys.txt")
    assert target.read_text(encoding="utf-8") == "untouched\n"


def test_a_stale_plain_text_file_is_replaced(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    settings.demo_keys_text_file.write_text("old keys that no longer work\n", encoding="utf-8")
    settings.demo_keys_text_file.chmod(0o644)
    generated = ensure_demo_keys(settings)
    assert len(generated) == len(DEMO_KEYS)
    assert stat.S_IMODE(settings.demo_keys_text_file.stat().st_mode) == 0o600
    assert "old keys" not in settings.demo_keys_text_file.read_text(encoding="utf-8")
    assert ensure_demo_keys(settings) == []  # once only: the keys are shown when generated
    # a configured keys file is never generated
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    configured = Settings(data_dir=elsewhere, api_keys_file=elsewhere / "mine.toml")
    assert ensure_demo_keys(configured) == [] and list(elsewhere.iterdir()) == []


# ---- principals and reloads --------------------------------------------------------------


def test_a_principal_is_checked_against_a_reloaded_ring(tmp_path: Path) -> None:
    first = load_keys(
        keys_file(tmp_path, entry("tax", "ISSUER", key_sha256=sha(LONG_KEY), department="wz-tax")),
        DEPARTMENTS,
    )
    principal = first.authenticate(bearer(LONG_KEY))
    assert sha(LONG_KEY) not in repr(principal)
    assert first.still_valid(principal) and first.still_valid(PUBLIC)

    renamed = load_keys(
        keys_file(
            tmp_path, entry("tax-2", "ISSUER", key_sha256=sha(LONG_KEY), department="wz-tax")
        ),
        DEPARTMENTS,
    )
    assert renamed.still_valid(principal)
    assert renamed.current(principal) == Principal("tax-2", Role.ISSUER, "wz-tax")

    for changed in (
        entry("tax", "ISSUER", key_sha256=sha(LONG_KEY), department="wz-public-resources"),
        entry("tax", "REGULATOR", key_sha256=sha(LONG_KEY)),
        entry("tax", "ISSUER", key_sha256=sha(LONG_KEY + "!"), department="wz-tax"),
    ):
        ring = load_keys(keys_file(tmp_path, changed), DEPARTMENTS)
        assert not ring.still_valid(principal), changed


def watched(tmp_path: Path, *entries: str) -> tuple[KeyFileWatcher, list[KeyRing]]:
    watcher = KeyFileWatcher(keys_file(tmp_path, *entries), DEPARTMENTS)
    watcher.load()
    swaps: list[KeyRing] = []
    watcher.on_change(swaps.append)
    return watcher, swaps


def test_the_watcher_swaps_in_a_changed_file(tmp_path: Path) -> None:
    watcher, swaps = watched(tmp_path, entry("a", key_sha256=sha("a" * 16)))
    assert watcher.poll() is False and watcher.generation == 0
    keys_file(tmp_path, entry("a", key_sha256=sha("a" * 16)), entry("b", key_sha256=sha("b" * 16)))
    assert watcher.poll() is True
    assert watcher.generation == 1 and swaps == [watcher.keys]
    assert watcher.keys.authenticate(bearer("b" * 16)).name == "b"
    keys_file(tmp_path, entry("b", key_sha256=sha("b" * 16)))
    assert watcher.poll() is True and watcher.generation == 2
    with pytest.raises(Unauthenticated):
        watcher.keys.authenticate(bearer("a" * 16))


def test_a_same_size_rewrite_with_the_same_mtime_is_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rotated digest keeps the file's size; two writes in one clock tick keep its mtime."""
    monkeypatch.setattr(keys_watch, "_RECENT_SECONDS", 3600.0)  # this test's writes count as recent
    watcher, _ = watched(tmp_path, entry("a", key_sha256=sha("a" * 16)))
    path, before = watcher.path, watcher.path.stat()
    keys_file(tmp_path, entry("a", key_sha256=sha("c" * 16)))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (
        before.st_ino,
        before.st_size,
        before.st_mtime_ns,
    )
    assert watcher.poll() is True
    assert watcher.keys.authenticate(bearer("c" * 16)).name == "a"


def test_a_broken_file_keeps_the_keys_and_says_why_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    watcher, swaps = watched(tmp_path, entry("a", key_sha256=sha("a" * 16)))
    kept = watcher.keys
    secret = "s" * 20
    caplog.set_level(logging.INFO, logger="creditlink.keys")
    broken = [
        "[[keys]\nname = 'x'\n",  # not TOML
        entry("a", key_sha256=sha("a" * 16)) + entry("tiny", key="t" * 15),
        entry("a", key_sha256=sha("a" * 16)) + entry("plain", key=secret),
    ]
    for content in broken:
        watcher.path.write_text(content, encoding="utf-8")
        assert watcher.poll() is False
        assert watcher.poll() is False  # the same content again: neither parsed nor logged
    watcher.path.unlink()
    assert watcher.poll() is False
    assert watcher.keys is kept and swaps == [] and watcher.generation == 0

    problems = [r.__dict__["problem"] for r in caplog.records if r.levelno == logging.WARNING]
    assert len(problems) == 4
    assert "not valid TOML" in problems[0]
    assert "keys[1] (tiny)" in problems[1] and "keys[1] (plain)" in problems[2]
    assert "not found" in problems[3] or "No such file" in problems[3]
    assert all(secret not in r.getMessage() + str(r.__dict__) for r in caplog.records)

    keys_file(tmp_path, entry("a", key_sha256=sha("a" * 16)), entry("d", key_sha256=sha("d" * 16)))
    assert watcher.poll() is True and watcher.keys.authenticate(bearer("d" * 16)).name == "d"


async def test_the_watcher_polls_on_the_loop_until_stopped(tmp_path: Path) -> None:
    watcher = KeyFileWatcher(
        keys_file(tmp_path, entry("a", key_sha256=sha("a" * 16))), DEPARTMENTS, interval=0.05
    )
    watcher.load()
    swapped = asyncio.Event()
    undo = watcher.on_change(lambda ring: swapped.set())
    watcher.start()
    try:
        keys_file(tmp_path, entry("e", key_sha256=sha("e" * 16)))
        await asyncio.wait_for(swapped.wait(), timeout=5)
        assert watcher.keys.authenticate(bearer("e" * 16)).name == "e"
    finally:
        await watcher.stop()
        undo()
