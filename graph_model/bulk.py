"""Cypher for bulk writes (seeding): one UNWIND query per label or relationship type.

Every query is idempotent (MERGE on `id`, then SET), so a load can be re-run or resumed
without duplicating anything, and each returns how many rows it wrote so that a caller
can tell a row whose endpoint is missing (MATCH drops it silently) from a written one.
Labels and relationship types are interpolated only from `domain.vocabulary`; values
always travel as `$rows`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, LiteralString

from neo4j import AsyncDriver, AsyncManagedTransaction

from domain.errors import CreditLinkError
from domain.identifiers import SubjectKind
from domain.vocabulary import KIND_LABEL, ROLE_VALUES, Label, Rel, SystemRel
from graph_model.contact_key import ContactKey
from graph_model.driver import translate

Rows = Sequence[Mapping[str, Any]]
Statement = tuple[LiteralString, dict[str, Any]]

SANCTION_PROPERTIES: tuple[str, ...] = (
    "id", "listType", "kind", "decidedOn", "validFrom", "validTo", "status", "liftKind",
    "liftedAt", "jurisdiction", "recognized", "documentNo", "reason", "issuerId",
    "subjectId", "createdAt",
)  # fmt: skip


def _trusted(query: str) -> LiteralString:
    # The only non-literal parts of these queries are domain.vocabulary enum values and the
    # property names above, never input, which is what LiteralString stands for.
    # (mypy treats LiteralString as str, so no cast is needed or allowed here.)
    return query


def subject_query(kind: SubjectKind) -> LiteralString:
    # $now rather than datetime(): one timestamp per load, and a per-row datetime()
    # call was measurably slower at bulk rates.
    return _trusted(
        f"UNWIND $rows AS row "
        f"MERGE (n:{Label.SUBJECT} {{id: row.id}}) ON CREATE SET n.createdAt = $now "
        f"SET n:{KIND_LABEL[kind]}, n += row, n.updatedAt = $now "
        f"RETURN count(*) AS written"
    )


HOUSEHOLD_QUERY: LiteralString = _trusted(
    f"UNWIND $rows AS row "
    f"MERGE (h:{Label.HOUSEHOLD} {{id: row.id}}) SET h += row "
    f"RETURN count(*) AS written"
)


def link_query(rel: Rel) -> LiteralString:
    """Both ends are matched through a uniquely indexed label (`Subject` or `Household`)."""
    target = Label.HOUSEHOLD if rel is Rel.MEMBER_OF else Label.SUBJECT
    extra = ""
    if rel is Rel.SHAREHOLDER_OF:
        extra += ", r.ratio = row.ratio"
    if rel in ROLE_VALUES:
        extra += ", r.role = row.role"
    return _trusted(
        f"UNWIND $rows AS row "
        f"MATCH (a:{Label.SUBJECT} {{id: row.src}}) "
        f"MATCH (b:{target} {{id: row.dst}}) "
        f"MERGE (a)-[r:{rel} {{id: row.id}}]->(b) "
        f"SET r.validFrom = row.validFrom, r.validTo = row.validTo, r.source = row.source{extra} "
        f"RETURN count(*) AS written"
    )


SANCTION_QUERY: LiteralString = _trusted(
    f"UNWIND $rows AS row "
    f"MATCH (t:{Label.SUBJECT} {{id: row.subjectId}}) "
    f"MERGE (d:{Label.DEPARTMENT} {{id: row.issuerId}}) ON CREATE SET d.name = row.issuerName "
    f"MERGE (s:{Label.SANCTION} {{id: row.id}}) "
    f"SET s += row {{{', '.join('.' + p for p in SANCTION_PROPERTIES)}}} "
    f"MERGE (d)-[:{SystemRel.ISSUED}]->(s) "
    f"MERGE (s)-[:{SystemRel.AGAINST}]->(t) "
    f"RETURN count(*) AS written"
)

RESPONSIBLE_QUERY: LiteralString = _trusted(
    f"UNWIND $rows AS row "
    f"MATCH (s:{Label.SANCTION} {{id: row.sanctionId}}) "
    f"MATCH (p:{Label.SUBJECT} {{id: row.personId}}) WHERE p:{Label.PERSON} "
    f"MERGE (s)-[:{SystemRel.RESPONSIBLE_PERSON}]->(p) "
    f"RETURN count(*) AS written"
)


# -- builders ----------------------------------------------------------------------------


def subjects_statement(
    kind: SubjectKind, rows: Rows, now: dt.datetime, contact_key: ContactKey
) -> Statement:
    """`now` becomes `updatedAt`, and `createdAt` of subjects not yet in the database.

    Rows carry contact hashes as bare sha256 digests; they are keyed here, the one place
    every bulk writer passes, so no path stores a digest that a brute force reverses."""
    return subject_query(kind), {"rows": [contact_key.key_row(r) for r in rows], "now": now}


def households_statement(rows: Rows) -> Statement:
    return HOUSEHOLD_QUERY, {"rows": list(rows)}


def links_statement(rel: Rel, rows: Rows) -> Statement:
    return link_query(rel), {"rows": list(rows)}


def sanctions_statements(rows: Rows) -> tuple[Statement, Statement]:
    """The sanctions with their issuer and subject, then their responsible persons."""
    responsible = [
        {"sanctionId": row["id"], "personId": person}
        for row in rows
        for person in dict.fromkeys(row.get("responsiblePersonIds") or ())
    ]
    return (SANCTION_QUERY, {"rows": list(rows)}), (RESPONSIBLE_QUERY, {"rows": responsible})


# -- writers -----------------------------------------------------------------------------


async def write_subjects(
    driver: AsyncDriver,
    database: str,
    kind: SubjectKind,
    rows: Rows,
    *,
    contact_key: ContactKey,
    now: dt.datetime | None = None,
) -> int:
    """The database must already be keyed with `contact_key` (`contact_key.ensure_keyed`)."""
    stamp = now if now is not None else dt.datetime.now(dt.UTC)
    statement = subjects_statement(kind, rows, stamp, contact_key)
    (written,) = await run_write(driver, database, [statement])
    return written


async def write_households(driver: AsyncDriver, database: str, rows: Rows) -> int:
    (written,) = await run_write(driver, database, [households_statement(rows)])
    return written


async def write_links(driver: AsyncDriver, database: str, rel: Rel, rows: Rows) -> int:
    (written,) = await run_write(driver, database, [links_statement(rel, rows)])
    return written


async def write_sanctions(driver: AsyncDriver, database: str, rows: Rows) -> tuple[int, int]:
    """Returns (sanctions written, RESPONSIBLE_PERSON edges written), in one transaction."""
    sanctions, responsible = await run_write(driver, database, sanctions_statements(rows))
    return sanctions, responsible


async def run_write(
    driver: AsyncDriver, database: str, statements: Sequence[Statement]
) -> list[int]:
    """Run `statements` in one managed write transaction (retried on transient errors)."""

    async def work(tx: AsyncManagedTransaction) -> list[int]:
        written: list[int] = []
        for query, params in statements:
            result = await tx.run(query, params)
            record = await result.single(strict=True)
            written.append(int(record["written"]))
        return written

    try:
        async with driver.session(database=database) as session:
            return await session.execute_write(work)
    except CreditLinkError:
        raise
    except Exception as exc:  # no driver exception leaves graph_model as such
        raise translate(exc) from exc
