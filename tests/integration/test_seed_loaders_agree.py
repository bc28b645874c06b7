"""The two loaders of a generated world agree, link history included: UNWIND batches
(`seeds.loader`) into the session's Neo4j, and `neo4j-admin database import` CSVs
(`seeds.admin_import`) into a store of its own, started beside it."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from domain.vocabulary import KIND_LABEL, Label, Rel, SystemRel
from graph_model.contact_key import KEY_FILE_NAME, load_key, marker_properties
from graph_model.driver import create_driver
from seeds.admin_import import import_world
from seeds.generator import World, WorldSpec, generate
from seeds.loader import load_world
from testkit.neo4j import store_neo4j
from tests.conftest import TEST_DATA

pytestmark = pytest.mark.integration

CONTACT_KEY = load_key(TEST_DATA / KEY_FILE_NAME, create=True)

# The world's own records; Department nodes are counted apart (the catalogue's are in the
# session's database before any load).
NODE_LABELS = (Label.SUBJECT, *KIND_LABEL.values(), Label.HOUSEHOLD, Label.SANCTION)
REL_TYPES = (*Rel, SystemRel.ISSUED, SystemRel.AGAINST, SystemRel.RESPONSIBLE_PERSON)
LINKS = (
    "MATCH (a)-[r]->(b) WHERE type(r) IN $types "
    "RETURN type(r) AS type, a.id AS src, b.id AS dst, r.id AS id, r.validFrom AS validFrom, "
    "r.validTo AS validTo, r.source AS source, r.ratio AS ratio, r.role AS role"
)
SUBJECTS = (
    "MATCH (s:Subject) RETURN s.id AS id, labels(s) AS labels, "
    "s {.*, createdAt: null, updatedAt: null} AS props"
)


@pytest.fixture(scope="module")
def world() -> World:
    return generate(WorldSpec(n_subjects=3_000, seed=3, unit_sanction_rate=0.1, link_history=True))


async def _dump(driver: Any, database: str, world: World) -> dict[str, Any]:
    async def rows(query: str, **params: Any) -> list[dict[str, Any]]:
        records, _, _ = await driver.execute_query(query, params, database_=database)
        return [dict(r) for r in records]

    counts = {}
    for label in NODE_LABELS:
        counts[label.value] = (await rows(f"MATCH (n:{label}) RETURN count(n) AS n"))[0]["n"]
    for rel in REL_TYPES:
        counts[rel.value] = (await rows(f"MATCH ()-[r:{rel}]->() RETURN count(r) AS n"))[0]["n"]
    issuers = [d["id"] for d in world.departments()]
    departments = await rows(
        "MATCH (d:Department) WHERE d.id IN $ids RETURN count(d) AS n", ids=issuers
    )
    counts[Label.DEPARTMENT.value] = departments[0]["n"]
    links = await rows(LINKS, types=[rel.value for rel in Rel])
    subjects = await rows(SUBJECTS)
    key_records = await rows("MATCH (k:ContactKey) RETURN properties(k) AS k")
    return {
        "counts": counts,
        "contact_key": [r["k"] for r in key_records],
        "links": sorted(tuple(sorted(r.items())) for r in links),
        "subjects": sorted(
            (r["id"], tuple(sorted(r["labels"])), tuple(sorted(r["props"].items())))
            for r in subjects
        ),
    }


async def test_unwind_and_admin_import_build_the_same_graph_with_history(
    driver: Any, database: str, world: World, tmp_path: Path
) -> None:
    expected = world.counts()
    written = await load_world(
        driver, database, world, contact_key=CONTACT_KEY, batch_size=500, progress=False
    )
    assert written == expected
    unwind = await _dump(driver, database, world)
    assert unwind["counts"] == expected

    data_dir = tmp_path / "admin"
    report = import_world(
        world,
        data_dir / "neo4j",
        contact_key=CONTACT_KEY,
        workers=2,
        csv_dir=tmp_path / "csv",
        log=lambda _: None,
    )
    assert report.counts == {k: v for k, v in expected.items() if v}
    try:
        with store_neo4j(data_dir, heap_mb=512, pagecache_mb=128, start_timeout=300) as store:
            admin_driver = create_driver(store.uri, *store.auth)
            try:
                admin = await _dump(admin_driver, "neo4j", world)
            finally:
                await admin_driver.close()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)

    assert admin["counts"] == unwind["counts"]
    assert admin["links"] == unwind["links"]
    assert admin["subjects"] == unwind["subjects"]
    # both record the key, so a later writer never takes the keyed hashes for bare ones
    assert admin["contact_key"] == unwind["contact_key"] == [marker_properties(CONTACT_KEY)]
    ended = [r for r in unwind["links"] if dict(r)["validTo"] is not None]
    assert {dict(r)["type"] for r in ended} >= {
        Rel.MEMBER_OF.value,
        Rel.EXECUTIVE_OF.value,
        Rel.LEGAL_REPRESENTATIVE_OF.value,
        Rel.SHAREHOLDER_OF.value,
    }
