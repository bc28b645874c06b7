"""Stored contact hashes are keyed (HMAC-SHA256 with a secret of the deployment), so a
copy of the store does not give phone numbers up to a brute force over ~10**9 numbers.

Unit: the keyed value, the key file (0600, reused, refused when unsafe; several processes
making it at once agree), the bulk statement and the bulk-import CSVs. With a database:
a world loaded through the real loader into the session's Neo4j stores no bare digest and
suspected links over HTTP still find shared phones; and on a Neo4j of this module's own
(the re-key rewrites every subject, which the shared one must not see): `creditlink
migrate` keys a store from before keying once, two re-keyers never key a digest twice, and
a writer holding another key is refused with nothing written.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import multiprocessing
import stat
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import neo4j
import pytest

from api.cli import main as cli_main
from domain.errors import Conflict
from domain.identifiers import SubjectKind
from graph_model import bulk
from graph_model.contact_key import (
    KEY_FILE_NAME,
    ContactKey,
    ContactKeyError,
    ensure_keyed,
    load_key,
    marker_properties,
)
from graph_model.driver import Graph, create_driver
from graph_model.runtime.embedded import EmbeddedNeo4j
from seeds.admin_import import write_csvs
from seeds.contacts import address_hash, contact_hash, phone_hash
from seeds.generator import World, WorldSpec, generate
from seeds.loader import load_world
from testkit.neo4j import fresh_neo4j
from tests.conftest import TEST_DATA, ApiServer
from tests.integration.helpers import person_id

PHONE = "13812345678"
SPELLINGS = ("138 1234 5678", "+86 138-1234-5678", "１３８１２３４５６７８", "(+86)13812345678")
# the session's writers all use the test data dir's key (the API settings' data dir)
SESSION_KEY = load_key(TEST_DATA / KEY_FILE_NAME, create=True)
SUSPECTED = """
query($id: ID!) {
  suspectedLinks(subjectId: $id, first: 200) { links { subject { id } bases } }
}"""


# ---- the keyed value ---------------------------------------------------------------------


def test_the_stored_value_is_neither_the_bare_digest_nor_another_keys() -> None:
    digest = phone_hash(PHONE)
    one, other = ContactKey.generate(), ContactKey.generate()
    stored = one.keyed(digest)
    assert len(stored) == 64 and int(stored, 16) >= 0
    assert stored != digest
    assert stored != contact_hash(PHONE)
    assert stored != other.keyed(digest)
    assert stored == one.keyed(digest.upper())  # a digest's spelling does not matter


def test_two_spellings_of_one_phone_give_one_stored_value() -> None:
    key = ContactKey.generate()
    stored = key.keyed(phone_hash(PHONE))
    assert {key.keyed(phone_hash(s)) for s in SPELLINGS} == {stored}
    assert key.keyed(phone_hash("13812345679")) != stored
    address = "浙江省温州市鹿城区五马街道解放街1号2楼"
    assert key.keyed(address_hash(" 浙江省温州市 鹿城区五马街道解放街1号2楼")) == key.keyed(
        address_hash(address)
    )


def test_the_bulk_statement_stores_keyed_contacts_and_leaves_the_rows_alone() -> None:
    key = ContactKey.generate()
    row = {"id": "X", "kind": "PERSON", "name": "张三", "district": "330302"}
    rows = [{**row, "phoneHash": phone_hash(PHONE), "addressHash": address_hash("某街1号")}, row]
    _, params = bulk.subjects_statement(
        SubjectKind.PERSON, rows, dt.datetime(2026, 1, 1, tzinfo=dt.UTC), key
    )
    sent = params["rows"]
    assert sent[0]["phoneHash"] == key.keyed(phone_hash(PHONE)) != phone_hash(PHONE)
    assert sent[0]["addressHash"] == key.keyed(address_hash("某街1号"))
    assert sent[1] == row and "phoneHash" not in sent[1]
    assert rows[0]["phoneHash"] == phone_hash(PHONE)  # the generator's rows stay bare


def test_the_bulk_import_csvs_hold_keyed_contacts_and_the_keys_record(tmp_path: Path) -> None:
    world = generate(WorldSpec(n_subjects=1_000, seed=7))
    key = ContactKey.generate()
    write_csvs(world, tmp_path, contact_key=key, workers=1)
    bare = {
        r["id"]: (r.get("phoneHash"), r.get("addressHash"))
        for _, rows in world.subject_batches(5_000)
        for r in rows
    }
    with (tmp_path / "subjects-00.csv").open(encoding="utf-8") as f:
        written = {row[0]: (row[5], row[6]) for row in csv.reader(f)}
    assert written.keys() == bare.keys()
    phones = 0
    for sid, (phone, address) in bare.items():
        if phone is not None:
            phones += 1
            assert written[sid][0] == key.keyed(phone) != phone
        if address is not None:
            assert written[sid][1] == key.keyed(address) != address
    assert phones > 500
    with (tmp_path / "contact-key.csv").open(encoding="utf-8") as f:
        header, record = list(csv.reader(f))
    assert header[0] == "id:ID(ContactKey)"
    expected = marker_properties(key)
    assert record == [expected["id"], expected["fingerprint"], "true"]


# ---- the key file ------------------------------------------------------------------------


def test_the_key_file_is_made_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "data" / KEY_FILE_NAME
    first = load_key(path, create=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text(encoding="ascii")
    assert len(text.strip()) == 64 and bytes.fromhex(text.strip()) == first.secret
    again = load_key(path, create=True)
    assert again == first and path.read_text(encoding="ascii") == text
    assert sorted(p.name for p in path.parent.iterdir()) == [KEY_FILE_NAME]  # no temporaries
    assert first.secret.hex() not in repr(first)


def _make_key(path: str) -> str:
    return load_key(Path(path), create=True).fingerprint


def test_processes_making_the_key_at_once_all_get_the_same_one(tmp_path: Path) -> None:
    path = tmp_path / KEY_FILE_NAME
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(4, mp_context=context) as pool:
        fingerprints = list(pool.map(_make_key, [str(path)] * 8))
    assert set(fingerprints) == {load_key(path, create=False).fingerprint}
    assert sorted(p.name for p in tmp_path.iterdir()) == [KEY_FILE_NAME]


@pytest.mark.parametrize(
    ("content", "mode", "reason"),
    [
        ("", 0o600, "is empty"),
        ("\n", 0o600, "is empty"),
        ("ab" * 16 + "\n", 0o600, "64 hexadecimal characters"),
        ("zz" * 32 + "\n", 0o600, "64 hexadecimal characters"),
        ("ab" * 32 + "\n", 0o640, "readable by others (mode 0640)"),
        ("ab" * 32 + "\n", 0o604, "readable by others (mode 0604)"),
    ],
)
def test_an_unusable_key_file_is_refused_naming_it(
    tmp_path: Path, content: str, mode: int, reason: str
) -> None:
    path = tmp_path / KEY_FILE_NAME
    path.write_text(content, encoding="ascii")
    path.chmod(mode)
    with pytest.raises(ContactKeyError) as caught:
        load_key(path, create=True)
    assert str(path) in str(caught.value) and reason in str(caught.value)
    assert "ab" * 32 not in str(caught.value)  # the secret is never echoed
    assert path.read_text(encoding="ascii") == content  # and never replaced


def test_a_configured_key_file_that_is_missing_is_refused_not_made(tmp_path: Path) -> None:
    path = tmp_path / "shared" / KEY_FILE_NAME
    with pytest.raises(ContactKeyError, match="no contact hash key file"):
        load_key(path, create=False)
    assert not path.parent.exists()


# ---- the session's Neo4j: the real loader, suspected links over HTTP ---------------------


def _phone_groups(world: World) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for _, rows in world.subject_batches(5_000):
        for r in rows:
            if "phoneHash" in r:
                groups[r["phoneHash"]].append(r["id"])
    return groups


async def test_a_loaded_world_stores_no_bare_digest_and_shared_phones_still_link(
    graph: Graph, api_server: ApiServer
) -> None:
    world = generate(WorldSpec(n_subjects=1_000, seed=29))
    await load_world(graph.driver, graph.database, world, contact_key=SESSION_KEY, progress=False)
    groups = _phone_groups(world)
    bare_of = {sid: digest for digest, ids in groups.items() for sid in ids}
    rows = await graph.read(
        "UNWIND $ids AS id MATCH (s:Subject {id: id}) RETURN s.id AS id, s.phoneHash AS phone",
        {"ids": sorted(bare_of)},
    )
    assert len(rows) == len(bare_of)
    stored = {r["id"]: r["phone"] for r in rows}
    assert not set(stored.values()) & set(groups)  # no bare digest of any generated phone
    assert all(stored[sid] == SESSION_KEY.keyed(bare_of[sid]) for sid in stored)

    shared = [ids for ids in groups.values() if len(ids) >= 2]
    assert shared, "the world has subjects sharing a phone"
    first, second, *_ = shared[0]
    body = api_server.post(SUSPECTED, {"id": first}, key="regulator-key")
    assert "errors" not in body, body
    bases = {
        link["subject"]["id"]: link["bases"] for link in body["data"]["suspectedLinks"]["links"]
    }
    assert "SHARED_PHONE" in bases.get(second, []), bases


# ---- a Neo4j of this module's own: re-keying and refusing --------------------------------


@pytest.fixture(scope="module")
def own_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedNeo4j]:
    data_dir = tmp_path_factory.mktemp("contact-store")
    with fresh_neo4j(data_dir, heap_mb=512, pagecache_mb=128, start_timeout=300) as store:
        yield store


def _run(store: EmbeddedNeo4j, query: str, **params: Any) -> list[dict[str, Any]]:
    with neo4j.GraphDatabase.driver(store.uri, auth=store.auth) as driver:
        records, _, _ = driver.execute_query(query, params, database_="neo4j")
    return [dict(r) for r in records]


def _legacy_store(store: EmbeddedNeo4j, count: int) -> dict[str, str]:
    """An empty store, then `count` persons written as before keying: bare digests and no
    record of a key; pairs share a phone. Returns each subject's bare phone digest."""
    _run(store, "MATCH (n) WHERE NOT n:Migration DETACH DELETE n")
    phones = {person_id(): phone_hash(f"1390000{i // 2:04d}") for i in range(count)}
    rows = [
        {"id": sid, "kind": "PERSON", "name": "某", "district": "330302", "phoneHash": digest}
        for sid, digest in phones.items()
    ]
    _run(store, "UNWIND $rows AS row CREATE (s:Subject:Person) SET s = row", rows=rows)
    return phones


def _stored_phones(store: EmbeddedNeo4j) -> dict[str, str]:
    rows = _run(store, "MATCH (s:Subject) RETURN s.id AS id, s.phoneHash AS phone")
    return {r["id"]: r["phone"] for r in rows}


def _cli_env(monkeypatch: pytest.MonkeyPatch, store: EmbeddedNeo4j, data_dir: Path) -> None:
    user, password = store.auth
    for name, value in {
        "NEO4J_URI": store.uri,
        "NEO4J_USER": user,
        "NEO4J_PASSWORD": password,
        "NEO4J_DATABASE": "neo4j",
        "CREDITLINK_DATA_DIR": str(data_dir),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CREDITLINK_CONTACT_HASH_KEY_FILE", raising=False)


def test_creditlink_migrate_keys_a_store_from_before_keying_once(
    own_store: EmbeddedNeo4j,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    phones = _legacy_store(own_store, 30)
    _cli_env(monkeypatch, own_store, tmp_path / "api")

    assert cli_main(["migrate"]) == 0
    assert "keyed the contact hashes of 30 subjects" in capsys.readouterr().out
    key_path = tmp_path / "api" / KEY_FILE_NAME
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    key = load_key(key_path, create=False)
    keyed = _stored_phones(own_store)
    assert keyed == {sid: key.keyed(digest) for sid, digest in phones.items()}
    assert not set(keyed.values()) & set(phones.values())

    # run again (every `creditlink serve` does): nothing is keyed a second time
    assert cli_main(["migrate"]) == 0
    assert "keyed the contact hashes" not in capsys.readouterr().out
    assert _stored_phones(own_store) == keyed
    assert _run(own_store, "MATCH (k:ContactKey) RETURN properties(k) AS k") == [
        {"k": marker_properties(key)}
    ]


async def test_two_rekeyers_in_small_batches_key_each_digest_once(
    own_store: EmbeddedNeo4j,
) -> None:
    phones = _legacy_store(own_store, 50)
    key = ContactKey.generate()
    driver = create_driver(own_store.uri, *own_store.auth)
    try:
        graph = Graph(driver, "neo4j")
        counts = await asyncio.gather(
            ensure_keyed(graph, key, batch_size=7), ensure_keyed(graph, key, batch_size=7)
        )
        assert sum(counts) == 50
        assert await ensure_keyed(graph, key) == 0
    finally:
        await driver.close()
    assert _stored_phones(own_store) == {sid: key.keyed(d) for sid, d in phones.items()}


def test_a_writer_holding_another_key_is_refused_and_writes_nothing(
    own_store: EmbeddedNeo4j,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _legacy_store(own_store, 4)
    _cli_env(monkeypatch, own_store, tmp_path / "api")
    assert cli_main(["migrate"]) == 0  # keys the store with the data dir's key
    before = _stored_phones(own_store)
    key = load_key(tmp_path / "api" / KEY_FILE_NAME, create=False)

    newcomer = person_id()
    subjects = tmp_path / "subjects.csv"
    subjects.write_text(
        f"id,kind,name,district,phoneHash\n{newcomer},PERSON,新人,330302,{phone_hash(PHONE)}\n",
        encoding="utf-8",
    )
    other = tmp_path / "other" / KEY_FILE_NAME
    other_key = load_key(other, create=True)
    monkeypatch.setenv("CREDITLINK_CONTACT_HASH_KEY_FILE", str(other))
    capsys.readouterr()
    assert cli_main(["import", "--subjects", str(subjects), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "CREDITLINK_CONTACT_HASH_KEY_FILE" in err and "another key" in err
    assert other_key.fingerprint in err and key.fingerprint in err  # which file is which
    assert _stored_phones(own_store) == before

    async def load_with_the_other_key() -> None:
        driver = create_driver(own_store.uri, *own_store.auth)
        try:
            world = generate(WorldSpec(n_subjects=1_000, seed=31))
            await load_world(driver, "neo4j", world, contact_key=other_key, progress=False)
        finally:
            await driver.close()

    with pytest.raises(Conflict, match="another key"):
        asyncio.run(load_with_the_other_key())
    assert _stored_phones(own_store) == before

    # the right key (the data dir's) imports, keying the source's bare digest on the way in
    monkeypatch.delenv("CREDITLINK_CONTACT_HASH_KEY_FILE")
    assert cli_main(["import", "--subjects", str(subjects), "--quiet"]) == 0
    assert _stored_phones(own_store)[newcomer] == key.keyed(phone_hash(PHONE))


def test_the_key_file_setting_is_read(tmp_path: Path) -> None:
    from api.settings import Settings

    path = tmp_path / "shared-key"
    settings = Settings.from_env({"CREDITLINK_CONTACT_HASH_KEY_FILE": str(path)})
    assert settings.contact_key_file == path.resolve()
    default = Settings.from_env({"CREDITLINK_DATA_DIR": str(tmp_path)})
    assert default.contact_key_file == tmp_path.resolve() / KEY_FILE_NAME
