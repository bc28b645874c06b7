"""The joint sanction check: one Cypher round trip for one subject or a thousand.

For an area, the query is built once from the catalogue's compiled roles: one UNION
branch per role chain that some measure of that area reaches through, each filtering
to the list types whose measures use that role there. Python then attaches measures,
picks one canonical path per (measure, role, sanction) and decides.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from graph_model.check_ids import batch_item_ids, single_check_ids
from graph_model.driver import Graph
from graph_model.labels import Label
from graph_model.role_patterns import PATH_OF, render_chain, sanction_link
from graph_model.sanctions_read import AT_FROM_EPOCH, SANCTION_FIELDS, applies_at
from graph_model.values import city_date, epoch_pair, native
from rules.compiler import compile_catalogue, list_types_by_role
from rules.models import Catalogue, Effect, Measure, strongest

DECISION_OF_EFFECT = {
    Effect.PROHIBIT: "PROHIBITED",
    Effect.RESTRICT: "RESTRICTED",
    Effect.STRICT_REVIEW: "STRICT_REVIEW",
    Effect.ALERT: "ALERT",
}


@dataclass(frozen=True)
class AppliedMeasure:
    measure: Measure
    role: str
    sanction: dict[str, Any]
    path: list[dict[str, Any]]
    suppressed: bool


@dataclass(frozen=True)
class CheckOutcome:
    check_id: str
    subject_id: str
    subject_known: bool
    area: str
    at: dt.datetime
    decision: str
    measures: list[AppliedMeasure]


def path_sort_key(path: list[dict[str, Any]]) -> tuple[Any, ...]:
    """Shortest first, then by the steps' ends, relation and start date: a total order."""
    return (
        len(path),
        tuple((p["from"], p["relation"], p["to"], p["validFrom"].isoformat()) for p in path),
    )


def decide(
    applied: list[tuple[Measure, str, dict[str, Any], list[dict[str, Any]]]],
) -> tuple[str, list[AppliedMeasure]]:
    """The decision and the measures, incentives marked suppressed under any punitive one."""
    strongest_effect = strongest(m.effect for m, *_ in applied)
    ordered = sorted(
        applied,
        key=lambda a: (-a[0].effect.strength, a[0].id, a[1], a[2]["id"]),
    )
    measures = [
        AppliedMeasure(
            measure=m,
            role=role,
            sanction=sanction,
            path=path,
            suppressed=m.effect is Effect.INCENTIVE and strongest_effect is not None,
        )
        for m, role, sanction, path in ordered
    ]
    if strongest_effect is not None:
        return DECISION_OF_EFFECT[strongest_effect], measures
    if measures:
        return "INCENTIVE", measures
    return "CLEAR", measures


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
        # socket reads, a Record), which was a quarter of batchCheck's API time
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
            self._outcome(check_id, subject_ids[r["i"]], r["known"], r["hits"], area, at)
            for check_id, r in zip(check_ids, results, strict=True)
        ]

    def _outcome(
        self,
        check_id: str,
        subject_id: str,
        known: bool,
        hits: list[dict[str, Any]],
        area: str,
        at: dt.datetime,
    ) -> CheckOutcome:
        # (measure, role, sanction) -> the canonical path among all found
        best: dict[tuple[str, str, str], tuple[Measure, dict[str, Any], list[dict[str, Any]]]] = {}
        by_list_type_area = self.catalogue.measures_by_list_type_and_area
        for hit in hits:
            sanction = native(hit["sanction"])
            path = native(hit["path"])
            role = hit["role"]
            for measure in by_list_type_area.get((sanction["listType"], area), ()):
                if role not in measure.roles:
                    continue
                key = (measure.id, role, sanction["id"])
                current = best.get(key)
                if current is None or path_sort_key(path) < path_sort_key(current[2]):
                    best[key] = (measure, sanction, path)
        decision, measures = decide(
            [(m, key[1], sanction, path) for key, (m, sanction, path) in best.items()]
        )
        return CheckOutcome(
            check_id=check_id,
            subject_id=subject_id,
            subject_known=known,
            area=area,
            at=at,
            decision=decision,
            measures=measures,
        )
