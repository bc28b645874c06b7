"""riskProfile: one query for the facts around a subject; `domain.scoring.risk` scores them.

The facts: the subject's own list entries (applying or not), sanctioned parties within
two links valid on the day (not through super-nodes), subjects sharing a phone or an
address with it that are sanctioned, a SHAREHOLDER_OF cycle through it (up to four
hops), how many other units share its address, and its legal representatives over time.
"""

from __future__ import annotations

import datetime as dt

from domain.errors import NotFound
from domain.identifiers import SubjectKind
from domain.scoring.risk import Profile, score
from domain.scoring.suspicion import SuspicionBasis
from domain.vocabulary import Label, Rel, SystemRel
from graph_model.driver import Graph
from graph_model.risk.common import ALL_RELATIONS, punitive_exists, rel_types, risk_params, valid
from graph_model.risk.config import DEFAULT_CONFIG, RiskConfig
from graph_model.risk.suspected import sharing_subquery
from graph_model.sanctions_read import applies_at
from graph_model.values import native

_ALL = rel_types(ALL_RELATIONS)
_STEP = "{from: startNode(r).id, relation: type(r), to: endNode(r).id}"

RISK_FACTS = (
    f"MATCH (s:{Label.SUBJECT.value} {{id: $id}})\n"
    # own entries, applying or not
    "CALL (s) {\n"
    f"  MATCH (s)<-[:{SystemRel.AGAINST.value}]-(x:{Label.SANCTION.value})\n"
    "  RETURN collect(x {.id, .listType, .kind, .validFrom, .validTo, .liftKind, .liftedAt,"
    f" .recognized, applies: {applies_at('x')}}}) AS own\n"
    "}\n"
    # sanctioned parties one or two valid links away, never through a super-node
    "CALL (s) {\n"
    f"  MATCH (s)-[r1:{_ALL}]-(n1)\n"
    f"  WHERE {valid('r1')}\n"
    "  CALL (s, r1, n1) {\n"
    "    RETURN n1 AS n, [r1] AS rels\n"
    "    UNION ALL\n"
    f"    WITH s, r1, n1 WHERE COUNT {{ (n1)-[:{_ALL}]-() }} <= $cap\n"
    f"    MATCH (n1)-[r2:{_ALL}]-(n2)\n"
    f"    WHERE {valid('r2')} AND n2 <> s\n"
    "    RETURN n2 AS n, [r1, r2] AS rels\n"
    "  }\n"
    f"  WITH n, rels WHERE n:{Label.SUBJECT.value}\n"
    f"  MATCH (n)<-[:{SystemRel.AGAINST.value}]-(x:{Label.SANCTION.value})\n"
    f"  WHERE x.kind IN $punitiveKinds AND {applies_at('x')}\n"
    "  RETURN collect({id: n.id, name: n.name, kind: n.kind,"
    f" path: [r IN rels | {_STEP}], sanction: x {{.id, .listType, .kind}}}}) AS near\n"
    "}\n"
    # sanctioned subjects sharing a phone or an address (households are links above)
    "CALL (s) {\n"
    "  CALL (s) {\n" + sharing_subquery("s") + "  }\n"
    f"  WITH o, basis WHERE basis <> '{SuspicionBasis.SHARED_HOUSEHOLD.value}'"
    f" AND {punitive_exists('o')}\n"
    "  RETURN collect(DISTINCT {id: o.id, name: o.name, basis: basis}) AS suspects\n"
    "}\n"
    # a shareholding cycle through the subject
    "CALL (s) {\n"
    f"  MATCH p = (s)((a)-[r:{Rel.SHAREHOLDER_OF.value}]->(b) WHERE {valid('r')}){{1,4}}(s)\n"
    "  WITH p LIMIT 1\n"
    "  RETURN collect([v IN nodes(p) | v.id]) AS cycles\n"
    "}\n"
    # other units at the same registered address, and the legal representatives
    "CALL (s) {\n"
    f"  MATCH (s)<-[r:{Rel.LEGAL_REPRESENTATIVE_OF.value}]-(p)\n"
    "  RETURN collect({person: p.id, validFrom: r.validFrom, validTo: r.validTo}) AS reps\n"
    "}\n"
    "RETURN s.kind AS kind, s.name AS name, own, near, suspects, cycles, reps,\n"
    "  CASE WHEN s.addressHash IS NULL THEN 0 ELSE COUNT {\n"
    f"    MATCH (o:{Label.SUBJECT.value}) WHERE o.addressHash = s.addressHash AND o <> s\n"
    f"    AND o.kind <> '{SubjectKind.PERSON.value}' }} END AS unitsAtAddress"
)


async def risk_profile(
    graph: Graph, subject_id: str, at: dt.datetime, *, config: RiskConfig = DEFAULT_CONFIG
) -> Profile:
    params = {**risk_params(at, config), "id": subject_id}
    rows = await graph.read(RISK_FACTS, params, name="riskProfile")
    if not rows:
        raise NotFound(f"subjectId: no subject {subject_id}", field="subjectId")
    return score(native(rows[0]), subject_id, at)
