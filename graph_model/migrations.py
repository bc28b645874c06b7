"""Versioned schema migrations, recorded in the database as `(:Migration {version})`.

Each migration is a list of idempotent statements; `apply_migrations` runs the ones
not yet recorded, in order, and records each. Safe to run from several processes:
statements use IF NOT EXISTS and the record is a MERGE.
"""

from __future__ import annotations

from dataclasses import dataclass

from graph_model.driver import Graph
from graph_model.labels import Label, Rel


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
)

LATEST_VERSION = MIGRATIONS[-1].version

APPLIED_VERSIONS = f"MATCH (m:{Label.MIGRATION.value}) RETURN m.version AS version"
RECORD_MIGRATION = (
    f"MERGE (m:{Label.MIGRATION.value} {{version: $version}}) "
    "ON CREATE SET m.description = $description, m.appliedAt = datetime()"
)
AWAIT_INDEXES = "CALL db.awaitIndexes(300)"


async def applied_versions(graph: Graph) -> set[int]:
    rows = await graph.read(APPLIED_VERSIONS, name="migrations.applied")
    return {int(row["version"]) for row in rows}


async def pending(graph: Graph) -> list[Migration]:
    done = await applied_versions(graph)
    return [m for m in MIGRATIONS if m.version not in done]


async def apply_migrations(graph: Graph) -> list[int]:
    """Apply what is pending; returns the versions applied now."""
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
    if applied:
        await graph.write(AWAIT_INDEXES, name="migrations.await")
    return applied
