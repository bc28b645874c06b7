"""The seed loader against a real Neo4j: it writes what the world counts, and re-runs add nothing."""

from __future__ import annotations

from typing import Any

import pytest
from neo4j.time import Date, DateTime

from domain.vocabulary import KIND_LABEL, Label, Rel, SystemRel
from graph_model.contact_key import KEY_FILE_NAME, load_key
from seeds.demo import DEMO_SHOWCASE, SHOWCASE_NAME, demo_world
from seeds.generator import World
from seeds.loader import load_world
from tests.conftest import TEST_DATA

pytestmark = pytest.mark.integration

CONTACT_KEY = load_key(TEST_DATA / KEY_FILE_NAME, create=True)

NODE_LABELS = (
    Label.SUBJECT,
    *KIND_LABEL.values(),
    Label.HOUSEHOLD,
    Label.SANCTION,
)
REL_TYPES = (*Rel, SystemRel.ISSUED, SystemRel.AGAINST, SystemRel.RESPONSIBLE_PERSON)

SHOWCASE = """
MATCH (d:Department)-[:ISSUED]->(s:Sanction {id: $sanction})-[:AGAINST]->(e:Subject {id: $firm})
MATCH (rep:Subject {id: $rep})-[lr:LEGAL_REPRESENTATIVE_OF]->(e)
MATCH (rep)-[head:MEMBER_OF]->(h:Household {id: $household})<-[child:MEMBER_OF]-(c:Subject {id: $child})
RETURN d.id AS issuer, e.name AS name, labels(e) AS labels, s.decidedOn AS decided,
       s.liftedAt AS liftedAt, lr.validFrom AS since, lr.validTo AS until,
       head.role AS headRole, child.role AS childRole, e.createdAt AS createdAt,
       e.updatedAt AS updatedAt
"""


@pytest.fixture(scope="module")
def world() -> World:
    return demo_world()


async def _count(driver: Any, database: str, query: str, **params: Any) -> int:
    records, _, _ = await driver.execute_query(query, params, database_=database)
    return int(records[0]["n"])


async def graph_counts(driver: Any, database: str, world: World) -> dict[str, int]:
    """What is in the database, keyed like `World.counts()`."""
    counts = {
        label.value: await _count(driver, database, f"MATCH (n:{label}) RETURN count(n) AS n")
        for label in NODE_LABELS
    }
    for rel in REL_TYPES:
        query = f"MATCH ()-[r:{rel}]->() RETURN count(r) AS n"
        counts[rel.value] = await _count(driver, database, query)
    # the catalogue's departments are in the database before any load; count the world's
    issuers = [d["id"] for d in world.departments()]
    counts[Label.DEPARTMENT.value] = await _count(
        driver,
        database,
        "MATCH (d:Department) WHERE d.id IN $ids RETURN count(d) AS n",
        ids=issuers,
    )
    return counts


async def showcase(driver: Any, database: str) -> dict[str, Any]:
    records, _, _ = await driver.execute_query(
        SHOWCASE,
        {
            "sanction": DEMO_SHOWCASE["dishonest_sanction_id"],
            "firm": DEMO_SHOWCASE["dishonest_enterprise_id"],
            "rep": DEMO_SHOWCASE["legal_representative_id"],
            "household": DEMO_SHOWCASE["household_id"],
            "child": DEMO_SHOWCASE["child_id"],
        },
        database_=database,
    )
    assert len(records) == 1
    return dict(records[0])


async def test_demo_world_loads_as_counted_and_reloads_without_duplicates(
    driver: Any, database: str, world: World
) -> None:
    expected = world.counts()

    # small batches: many transactions, both writers busy, blocks split across batches
    written = await load_world(
        driver, database, world, contact_key=CONTACT_KEY, batch_size=97, progress=False
    )
    assert written == expected
    assert await graph_counts(driver, database, world) == expected
    first = await showcase(driver, database)

    again = await load_world(driver, database, world, contact_key=CONTACT_KEY, progress=False)
    assert again == expected
    assert await graph_counts(driver, database, world) == expected
    second = await showcase(driver, database)

    assert first["issuer"] == "wz-intermediate-court"
    assert first["name"] == SHOWCASE_NAME
    assert set(first["labels"]) == {"Subject", "Enterprise"}
    assert (first["headRole"], first["childRole"]) == ("HEAD", "CHILD")
    assert isinstance(first["decided"], Date) and isinstance(first["since"], Date)
    assert first["until"] is None and first["liftedAt"] is None
    assert isinstance(first["createdAt"], DateTime)
    assert second["createdAt"] == first["createdAt"]  # a re-run updates, never re-creates
    assert second["updatedAt"] >= first["updatedAt"]
