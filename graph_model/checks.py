"""The joint sanction check: one Cypher round trip for one subject or a thousand.

For an area, the query is built once from the catalogue's compiled roles: one UNION
branch per role chain that some measure of that area reaches through, each filtering
to the list types whose measures use that role there. `rules.decision` then attaches
measures, picks one canonical path per (measure, role, sanction) and decides.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from domain.check_ids import batch_item_ids, single_check_ids
from domain.time import city_date, epoch_pair
from domain.vocabulary import Label
from graph_model.driver import Graph
from graph_model.role_patterns import PATH_OF, render_chain, sanction_link
from graph_model.sanctions_read import AT_FROM_EPOCH, SANCTION_FIELDS, applies_at
from graph_model.values import native
from rules.compiler import compile_catalogue, list_types_by_role
from rules.decision import CheckOutcome, Hit, outcome
from rules.models import Catalogue


class CheckEngine:
    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.chains = compile_catalogue(catalogue)
        self._queries = {area: self._build(area) for area in catalogue.areas}

    def query_for(self, area: str) -> tuple[str, dict[str, Any]]:
        return self._queries[area]

    def _build(self, area: str) -> tuple[str, dict[str, Any]]:
        params: dict[str, Any] = {}
        branches: list[str] = []
        for role_id, list_types in list_types_by_role(self.catalogue, area).items():
            params[f"lt_{role_id}"] = list(list_types)
            params[f"role_{role_id}"] = role_id
            for chain in self.chains[role_id]:
                prefix = f"c{len(branches)}_"
                rendered = render_chain(chain, prefix, "s.decidedOn")
                params.update(rendered.params)
                where = [f"s.listType IN $lt_{role_id}", applies_at("s", at=AT_FROM_EPOCH)]
                where += rendered.conditions
                rels = ", ".join(rendered.rels_from_x)
                lines = [rendered.pattern] if rendered.pattern else []
                lines.append(f"MATCH {sanction_link(chain)}")
                lines.append("WHERE " + " AND ".join(where))
                lines.append(f"RETURN s, $role_{role_id} AS role, [{rels}] AS rels")
                branches.append("\n".join(lines))
        if branches:
            inner = "\nUNION ALL\n".join(branches)
            hits = (
                "CALL (x) {\n WITH x WHERE x IS NOT NULL\n CALL (x) {\n"
                + inner
                + "\n }\n RETURN collect({sanction: "
                + SANCTION_FIELDS.format(s="s")
                + ", role: role, path: "
                + PATH_OF
                + "}) AS hits\n}\n"
            )
        else:
            hits = "WITH i, x, [] AS hits\n"
        # one record for the whole batch: the driver pays per record (a message, a few
        # socket reads, a Record), so a thousand subjects' results come back as one
        query = (
            "UNWIND range(0, size($ids) - 1) AS i\n"
            f"OPTIONAL MATCH (x:{Label.SUBJECT.value} {{id: $ids[i]}})\n"
            + hits
            + "WITH i, x IS NOT NULL AS known, hits ORDER BY i\n"
            + "RETURN collect({i: i, known: known, hits: hits}) AS results"
        )
        return query, params

    def statement(
        self, area: str, subject_ids: list[str], at: dt.datetime
    ) -> tuple[str, dict[str, Any]]:
        """The area's check query and its parameters for these ids at instant `at`."""
        query, fixed = self.query_for(area)
        return query, {**fixed, "ids": subject_ids, "at": epoch_pair(at), "day": city_date(at)}

    async def check_many(
        self,
        graph: Graph,
        subject_ids: list[str],
        area: str,
        at: dt.datetime,
        *,
        batch_id: str | None = None,
    ) -> list[CheckOutcome]:
        """The checks in input order; with `batch_id` their ids are that batch's items."""
        query, params = self.statement(area, subject_ids, at)
        rows = await graph.read(query, params, name="jointSanctionCheck")
        results = rows[0]["results"]
        check_ids = (
            single_check_ids(len(results))
            if batch_id is None
            else batch_item_ids(batch_id, len(results))
        )
        return [
            outcome(
                check_id,
                subject_ids[r["i"]],
                r["known"],
                _hits(r["hits"]),
                area,
                at,
                self.catalogue,
            )
            for check_id, r in zip(check_ids, results, strict=True)
        ]


def _hits(rows: list[dict[str, Any]]) -> Iterator[Hit]:
    """One subject's hits, as `rules.decision` takes them."""
    for hit in rows:
        yield native(hit["sanction"]), hit["role"], native(hit["path"])
