"""Whom a sanction reaches: the check's role patterns walked from the sanctioned side.

Used both for an imposed sanction (`sanctionImpact`) and for one not yet imposed (the
preview): the pattern takes the decision date, list type and named persons as
parameters, never from a stored node, so both cases run the same query.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from domain.time import city_date
from domain.vocabulary import Label
from graph_model.driver import Graph
from graph_model.registry import SUBJECT_FIELDS
from graph_model.role_patterns import PATH_OF, render_chain
from graph_model.values import native
from rules.compiler import Chain, areas_by_list_type_and_role, compile_catalogue
from rules.decision import reached
from rules.models import Catalogue


class ImpactEngine:
    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.chains = compile_catalogue(catalogue)
        self.areas = areas_by_list_type_and_role(catalogue)
        self._queries: dict[str, tuple[str, dict[str, Any]]] = {}

    def query_for(self, list_type: str) -> tuple[str, dict[str, Any]]:
        cached = self._queries.get(list_type)
        if cached is None:
            cached = self._queries[list_type] = self._build(list_type)
        return cached

    def _branch(self, chain: Chain, index: int) -> tuple[str, dict[str, Any]]:
        prefix = f"c{index}_"
        rendered = render_chain(chain, prefix, "$decidedOn")
        params = dict(rendered.params)
        params[f"{prefix}role"] = chain.role
        lines: list[str] = []
        start = "y" if chain.steps else "x"
        if chain.named_by_sanction:
            lines.append(f"UNWIND $named AS pid MATCH ({start}:{Label.PERSON.value} {{id: pid}})")
        else:
            lines.append(f"MATCH ({start}:{Label.SUBJECT.value} {{id: $subjectId}})")
        if rendered.pattern:
            lines.append(rendered.pattern)
        if rendered.conditions:
            lines.append("WHERE " + " AND ".join(rendered.conditions))
        rels = ", ".join(rendered.rels_from_x)
        lines.append(f"RETURN x, ${prefix}role AS role, [{rels}] AS rels")
        return "\n".join(lines), params

    def _build(self, list_type: str) -> tuple[str, dict[str, Any]]:
        branches: list[str] = []
        params: dict[str, Any] = {}
        for role_id, chains in self.chains.items():
            if (list_type, role_id) not in self.areas:
                continue
            for chain in chains:
                text, branch_params = self._branch(chain, len(branches))
                branches.append(text)
                params.update(branch_params)
        if not branches:
            return "RETURN null AS subject, null AS role, [] AS path LIMIT 0", {}
        query = (
            "CALL () {\n"
            + "\nUNION ALL\n".join(branches)
            + "\n}\n"
            + f"RETURN {SUBJECT_FIELDS.replace('s {', 'x {')} AS subject, role, {PATH_OF} AS path"
        )
        return query, params

    async def impact(
        self,
        graph: Graph,
        *,
        list_type: str,
        subject_id: str,
        decided_on: dt.date,
        named: list[str],
        at: dt.datetime,
    ) -> list[dict[str, Any]]:
        """One entry per (subject, role): the areas reached and the canonical path."""
        query, fixed = self.query_for(list_type)
        params = {
            **fixed,
            "subjectId": subject_id,
            "decidedOn": decided_on,
            "named": named,
            "day": city_date(at),
        }
        rows = await graph.read(query, params, name="sanctionImpact")
        hits = ((native(row["subject"]), row["role"], native(row["path"])) for row in rows)
        return reached(hits, list_type, self.areas)
