"""Versioned schema migrations, recorded in the database as `(:Migration {version})`.

Each migration is a list of idempotent statements; `apply_migrations` runs the ones
not yet recorded, in order, and records each. Safe to run from several processes:
statements use IF NOT EXISTS and the record is a MERGE.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from domain.errors import InternalError, ServiceUnavailable
from domain.vocabulary import Label, Rel
from graph_model import event_log
from graph_model.driver import Graph


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]


def _unique(label: Label) -> str:
    return (
        f"CREATE CONSTRAINT {label.value.lower()}_id_unique IF NOT EXISTS "
        f"FOR (n:{label.value}) REQUIRE n.id IS UNIQUE"
    )


def _node_index(label: Label, *props: str) -> str:
    name = f"{label.value.lower()}_{'_'.join(p.lower() for p in props)}"
    fields = ", ".join(f"n.{p}" for p in props)
    return f"CREATE INDEX {name} IF NOT EXISTS FOR (n:{label.value}) ON ({fields})"


def _rel_index(rel: Rel, prop: str) -> str:
    return (
        f"CREATE INDEX rel_{rel.value.lower()}_{prop.lower()} IF NOT EXISTS "
        f"FOR ()-[r:{rel.value}]-() ON (r.{prop})"
    )


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "uniqueness of every id",
        tuple(
            _unique(label)
            for label in (
                Label.SUBJECT,
                Label.HOUSEHOLD,
                Label.SANCTION,
                Label.DEPARTMENT,
                Label.CHECK_RECORD,
                Label.FEEDBACK,
                Label.INSPECTION_DRAW,
            )
        ),
    ),
    Migration(
        2,
        "indexes the checks, lifecycle and statistics need",
        (
            _node_index(Label.SANCTION, "subjectId"),
            _node_index(Label.SANCTION, "listType"),
            _node_index(Label.SANCTION, "kind", "recognized"),
            _node_index(Label.SUBJECT, "kind"),
            _node_index(Label.SUBJECT, "district"),
            _node_index(Label.SUBJECT, "phoneHash"),
            _node_index(Label.SUBJECT, "addressHash"),
            _node_index(Label.CHECK_RECORD, "askedAt"),
            _node_index(Label.CHECK_RECORD, "department"),
            *(_rel_index(rel, "id") for rel in Rel),
        ),
    ),
    Migration(
        3,
        "full-text index on subject names with the CJK analyzer",
        (
            "CREATE FULLTEXT INDEX subject_names IF NOT EXISTS FOR (n:Subject) ON EACH [n.name] "
            "OPTIONS {indexConfig: {`fulltext.analyzer`: 'cjk'}}",
        ),
    ),
    Migration(
        4,
        "substring search on names, the published lists' order, supervision candidates",
        (
            f"CREATE TEXT INDEX subject_name_text IF NOT EXISTS FOR (n:{Label.SUBJECT.value}) "
            "ON (n.name)",
            _node_index(Label.SANCTION, "kind", "decidedOn"),
            _node_index(Label.SUBJECT, "district", "industry"),
        ),
    ),
    Migration(
        5,
        "batchCheck calls recorded one node each",
        (
            _unique(Label.CHECK_BATCH),
            _node_index(Label.CHECK_BATCH, "askedAt"),
            _node_index(Label.CHECK_BATCH, "department"),
        ),
    ),
    Migration(
        6,
        "one record of the key contact hashes are keyed with (graph_model.contact_key)",
        (_unique(Label.CONTACT_KEY),),
    ),
    Migration(
        7,
        "reads of personal data recorded (AccessRecord)",
        (
            _unique(Label.ACCESS_RECORD),
            _node_index(Label.ACCESS_RECORD, "at"),
            _node_index(Label.ACCESS_RECORD, "keyName", "at"),
        ),
    ),
    Migration(
        8,
        "the sanction event log every API process follows (graph_model.event_log)",
        (
            _unique(Label.EVENT_LOG),
            _unique(Label.SANCTION_EVENT),
            "CREATE CONSTRAINT sanctionevent_seq_unique IF NOT EXISTS "
            f"FOR (n:{Label.SANCTION_EVENT.value}) REQUIRE n.seq IS UNIQUE",
            event_log.CREATE_LOG,
        ),
    ),
    Migration(
        9,
        "exchange between platforms: sources, events kept aside, expiries due, provenance",
        (
            _unique(Label.EXCHANGE_SOURCE),
            _unique(Label.EXCHANGE_REJECTION),
            _node_index(Label.EXCHANGE_REJECTION, "source", "keptAt"),
            _node_index(Label.SANCTION, "expiryDue"),
            _node_index(Label.SANCTION, "sourceJurisdiction"),
        ),
    ),
)

LATEST_VERSION = MIGRATIONS[-1].version

APPLIED_VERSIONS = f"MATCH (m:{Label.MIGRATION.value}) RETURN m.version AS version"
RECORD_MIGRATION = (
    f"MERGE (m:{Label.MIGRATION.value} {{version: $version}}) "
    "ON CREATE SET m.description = $description, m.appliedAt = datetime()"
)
# one short read per poll: `db.awaitIndexes` would wait inside one transaction, which the
# server's transaction timeout (60 s) kills while a large store's indexes still populate
INDEXES_NOT_ONLINE = (
    "SHOW INDEXES YIELD name, state, populationPercent WHERE state <> 'ONLINE' "
    "RETURN name, state, populationPercent ORDER BY name"
)


async def applied_versions(graph: Graph) -> set[int]:
    rows = await graph.read(APPLIED_VERSIONS, name="migrations.applied")
    return {int(row["version"]) for row in rows}


async def pending(graph: Graph) -> list[Migration]:
    done = await applied_versions(graph)
    return [m for m in MIGRATIONS if m.version not in done]


async def apply_migrations(
    graph: Graph, *, progress: Callable[[list[dict[str, Any]]], None] | None = None
) -> list[int]:
    """Apply what is pending, then wait for every index to be ONLINE (`progress` is told
    which are not yet, on each poll); returns the versions applied now."""
    applied: list[int] = []
    for migration in await pending(graph):
        for statement in migration.statements:
            # schema statements cannot share a transaction with data writes
            await graph.write(statement, name="migrations.apply")
        await graph.write(
            RECORD_MIGRATION,
            {"version": migration.version, "description": migration.description},
            name="migrations.record",
        )
        applied.append(migration.version)
    await await_indexes(graph, progress=progress)
    return applied


async def await_indexes(
    graph: Graph,
    *,
    timeout: float = 3600.0,
    poll: float = 0.5,
    progress: Callable[[list[dict[str, Any]]], None] | None = None,
) -> None:
    """Wait until every index is ONLINE: a store imported in bulk, or a new index on a large
    one, populates in the background, and queries planned meanwhile would scan."""
    deadline = time.monotonic() + timeout
    while True:
        waiting = await graph.read(INDEXES_NOT_ONLINE, name="migrations.indexes")
        failed = [row["name"] for row in waiting if row["state"] == "FAILED"]
        if failed:
            raise InternalError(f"indexes failed to populate: {', '.join(failed)}")
        if not waiting:
            return
        if time.monotonic() > deadline:
            names = ", ".join(f"{r['name']} {r['populationPercent'] or 0:.0f}%" for r in waiting)
            raise ServiceUnavailable(f"indexes still populating after {timeout:.0f} s: {names}")
        if progress is not None:
            progress(waiting)
        await asyncio.sleep(poll)
