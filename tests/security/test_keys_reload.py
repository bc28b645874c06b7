"""A running API takes up an edited keys file within 5 s, and keeps its keys on a broken one.

The real app over HTTP; the keys file is this module's own (digests, as production files are).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from testkit.keys import key_entry
from tests.conftest import ApiServer, Neo4jServer, api_settings, serving

pytestmark = pytest.mark.integration

RELOAD_SECONDS = 5.0  # the contract: "a running API picks up the change within 5 s"
ADMIN = "reload-admin-key-0000001"
# needs READ_SUBJECT: a key that is gone answers UNAUTHENTICATED, a known one answers data
QUERY = '{ subject(id: "913303020A7LTHE826") { id } }'


def entry(name: str, key: str, role: str = "ADMIN") -> str:
    return key_entry(name, role, None, key)


class Refusals(logging.Handler):
    """The watcher's warnings, as they are logged."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.problems: list[str] = []
        self.seen = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        with self.seen:
            self.problems.append(str(record.__dict__.get("problem")))
            self.seen.notify_all()

    def wait_for(self, fragment: str) -> str:
        with self.seen:
            found = self.seen.wait_for(
                lambda: next((p for p in self.problems if fragment in p), None),
                timeout=RELOAD_SECONDS,
            )
        assert found, f"no refusal naming {fragment!r} within {RELOAD_SECONDS} s: {self.problems}"
        return found


@pytest.fixture(scope="module")
def keys_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("reload") / "keys.toml"
    path.write_text(entry("admin", ADMIN), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def api(neo4j_server: Neo4jServer, keys_path: Path) -> Iterator[ApiServer]:
    with serving(api_settings(neo4j_server, keys_path)) as server:
        yield server


@pytest.fixture
def refusals() -> Iterator[Refusals]:
    handler = Refusals()
    logger = logging.getLogger("creditlink.keys")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def code_for(api: ApiServer, key: str) -> str | None:
    """None when the key is let in, else the error code."""
    response = httpx.post(
        f"{api.url}/graphql",
        json={"query": QUERY},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    errors = body.get("errors") or []
    return str(errors[0]["extensions"]["code"]) if errors else None


def within_reload_time(what: str, condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + RELOAD_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {RELOAD_SECONDS} s of the change")
        time.sleep(0.05)


def test_an_added_key_works_without_a_restart(api: ApiServer, keys_path: Path) -> None:
    added = "reload-added-key-0000002"
    assert code_for(api, added) == "UNAUTHENTICATED"
    keys_path.write_text(entry("admin", ADMIN) + entry("added", added, "REGULATOR"), "utf-8")
    within_reload_time("the added key", lambda: code_for(api, added) is None)
    assert code_for(api, ADMIN) is None


def test_a_revoked_key_is_refused_without_a_restart(api: ApiServer, keys_path: Path) -> None:
    victim = "reload-revoked-key-000003"
    keys_path.write_text(entry("admin", ADMIN) + entry("victim", victim), "utf-8")
    within_reload_time("the key before revocation", lambda: code_for(api, victim) is None)
    keys_path.write_text(entry("admin", ADMIN), "utf-8")
    within_reload_time("the revocation", lambda: code_for(api, victim) == "UNAUTHENTICATED")
    assert code_for(api, ADMIN) is None


def test_a_broken_file_keeps_the_keys_in_force(
    api: ApiServer, keys_path: Path, refusals: Refusals
) -> None:
    keeper = "reload-kept-key-000000004"
    keys_path.write_text(entry("admin", ADMIN) + entry("keeper", keeper), "utf-8")
    within_reload_time("the key to keep", lambda: code_for(api, keeper) is None)

    keys_path.write_text(entry("admin", ADMIN) + "[[keys]\nname = 'half-edited'\n", "utf-8")
    assert str(keys_path) in refusals.wait_for("not valid TOML")
    assert code_for(api, keeper) is None and code_for(api, ADMIN) is None

    short = "short-plain-key"  # 15 characters: refused even where plain keys are allowed
    tiny = f'[[keys]]\nname = "tiny"\nkey = "{short}"\nrole = "ADMIN"\n'
    keys_path.write_text(entry("admin", ADMIN) + tiny, "utf-8")
    assert short not in refusals.wait_for("keys[1] (tiny)")
    assert code_for(api, keeper) is None and code_for(api, short) == "UNAUTHENTICATED"

    # and the watcher is still there for the next good file
    after = "reload-after-key-00000005"
    keys_path.write_text(entry("admin", ADMIN) + entry("after", after), "utf-8")
    within_reload_time("a good file after a broken one", lambda: code_for(api, after) is None)
    assert code_for(api, keeper) == "UNAUTHENTICATED"
