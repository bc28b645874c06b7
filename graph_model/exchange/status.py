"""Where each source stands: its position, its pulls, what was applied and kept aside."""

from __future__ import annotations

import datetime as dt
from typing import Any

from domain.vocabulary import Label
from graph_model.driver import Graph
from graph_model.values import native

_SOURCE = f"(x:{Label.EXCHANGE_SOURCE.value} {{id: $source}})"
POSITION = f"OPTIONAL MATCH {_SOURCE} RETURN x.cursor AS cursor"
# a pull's outcome, whether or not it applied anything: when it ran, and its error if any
RECORD_PULL = (
    f"MERGE {_SOURCE} ON CREATE SET x.createdAt = datetime(), x.applied = 0 "
    "SET x.lastPullAt = $at, x.url = coalesce($url, x.url), x.lastError = $error, "
    "x.lastSuccessAt = CASE WHEN $error IS NULL THEN $at ELSE x.lastSuccessAt END"
)
# the next pull reads the source's feed from its start (applying it again changes nothing)
RESET = f"MATCH {_SOURCE} REMOVE x.cursor"
SOURCES = (
    f"MATCH (x:{Label.EXCHANGE_SOURCE.value}) "
    "RETURN x {.id, .url, .cursor, .applied, .lastPullAt, .lastSuccessAt, .lastAppliedAt, "
    ".lastError, "
    f"keptAside: COUNT {{ MATCH (r:{Label.EXCHANGE_REJECTION.value} {{source: x.id}}) }}, "
    f"entries: COUNT {{ MATCH (s:{Label.SANCTION.value} {{sourceJurisdiction: x.id}}) }} "
    "} AS source ORDER BY source.id"
)
KEPT_ASIDE = (
    f"MATCH (r:{Label.EXCHANGE_REJECTION.value}) "
    "WHERE $source IS NULL OR r.source = $source "
    "RETURN r {.id, .source, .eventId, .kind, .sanctionId, .reason, .at, .keptAt} AS row "
    "ORDER BY r.keptAt DESC, r.id LIMIT $limit"
)


async def position(graph: Graph, source: str) -> str | None:
    """The cursor the next pull of `source` reads after (None: from the start)."""
    rows = await graph.read(POSITION, {"source": source}, name="exchange.position")
    return rows[0]["cursor"] if rows else None


async def record_pull(
    graph: Graph, source: str, *, url: str | None, error: str | None, at: dt.datetime
) -> None:
    await graph.write(
        RECORD_PULL,
        {"source": source, "url": url, "error": error and error[:500], "at": at},
        name="exchange.recordPull",
    )


async def reset_position(graph: Graph, source: str) -> None:
    await graph.write(RESET, {"source": source}, name="exchange.resetPosition")


async def sources(graph: Graph) -> list[dict[str, Any]]:
    rows = await graph.read(SOURCES, name="exchange.sources")
    return [native(row["source"]) for row in rows]


async def kept_aside(graph: Graph, source: str | None, limit: int) -> list[dict[str, Any]]:
    rows = await graph.read(
        KEPT_ASIDE, {"source": source, "limit": limit}, name="exchange.keptAside"
    )
    return [native(row["row"]) for row in rows]
