"""riskProfile: one query for the facts around a subject, Python for the score.

The facts: the subject's own list entries (applying or not), sanctioned parties within
two links valid on the day (not through super-nodes), subjects sharing a phone or an
address with it that are sanctioned, a SHAREHOLDER_OF cycle through it (up to four
hops), how many other units share its address, and its legal representatives over
time. `score` turns them into factors with the weights of `graph_model.risk.weights`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from graph_model.driver import Graph
from graph_model.errors import NotFound
from graph_model.identifiers import SubjectKind
from graph_model.labels import Label, Rel, SystemRel
from graph_model.risk.common import (
    ALL_RELATIONS,
    PUNITIVE_KINDS,
    punitive_exists,
    rel_types,
    valid,
)
from graph_model.risk.config import DEFAULT_CONFIG, RiskConfig
from graph_model.risk.suspected import SuspicionBasis, sharing_subquery
from graph_model.risk.weights import (
    CHURN_MIN_CHANGES,
    CHURN_WINDOW_DAYS,
    CROWDED_ADDRESS_UNITS,
    DISTANCE_FACTOR,
    RELATION_WEIGHTS,
    SCORE_MAX,
    SCORE_MIN,
    WATCH_FACTOR,
    WEIGHTS,
    FactorCode,
)
from graph_model.sanctions_read import applies_at
from graph_model.values import city_date, native

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


@dataclass(frozen=True)
class Factor:
    code: str
    weight: float
    detail: str


@dataclass(frozen=True)
class Profile:
    subject_id: str
    at: dt.datetime
    score: float
    factors: list[Factor]


class _Capped:
    """Adds factors of one code until their weights reach the code's cap."""

    def __init__(self, code: FactorCode, out: list[Factor]) -> None:
        self.code = code
        self.cap = WEIGHTS[code].cap
        self.used = 0.0
        self.out = out

    def add(self, weight: float, detail: str) -> None:
        if self.cap >= 0:
            weight = max(0.0, min(weight, self.cap - self.used))
        else:
            weight = min(0.0, max(weight, self.cap - self.used))
        self.used += weight
        self.out.append(Factor(self.code.value, round(weight, 2), detail))


def _path_text(path: list[dict[str, Any]]) -> str:
    return ", ".join(f"{p['from']} {p['relation']} {p['to']}" for p in path)


def _party_weight(item: dict[str, Any]) -> float:
    distance = len(item["path"])
    relation = min(RELATION_WEIGHTS[Rel(p["relation"])] for p in item["path"])
    factor = DISTANCE_FACTOR[distance]
    if item["sanction"]["kind"] != "BLACK":
        factor *= WATCH_FACTOR
    return relation * factor


def legal_representative_changes(reps: list[dict[str, Any]], day: dt.date) -> list[dict[str, Any]]:
    """Appointments in the three years up to `day`, other than a unit's first one."""
    ordered = sorted(
        (r for r in reps if r["validFrom"] <= day), key=lambda r: (r["validFrom"], r["person"])
    )
    since = day - dt.timedelta(days=CHURN_WINDOW_DAYS)
    return [r for r in ordered[1:] if r["validFrom"] > since]


def score(facts: dict[str, Any], subject_id: str, at: dt.datetime) -> Profile:
    day = city_date(at)
    factors: list[Factor] = []
    own = sorted(facts["own"], key=lambda x: x["id"])

    black = _Capped(FactorCode.OWN_BLACK_LIST, factors)
    watch = _Capped(FactorCode.OWN_WATCH_LIST, factors)
    red = _Capped(FactorCode.RED_LIST, factors)
    repaired = _Capped(FactorCode.REPAIRED_HISTORY, factors)
    revoked = _Capped(FactorCode.REVOKED_HISTORY, factors)
    expired = _Capped(FactorCode.EXPIRED_HISTORY, factors)
    for entry in own:
        what = f"{entry['listType']} entry {entry['id']} ({entry['kind']})"
        if entry["applies"]:
            target = {"BLACK": black, "WATCH": watch, "RED": red}[entry["kind"]]
            target.add(WEIGHTS[target.code].per_item, f"{what} applies")
            continue
        lifted = entry.get("liftedAt")
        if lifted is not None and lifted <= at:
            if entry["liftKind"] == "REVOKED":
                revoked.add(0.0, f"{what} was revoked on {lifted.date()}")
            elif entry["kind"] in PUNITIVE_KINDS:
                repaired.add(
                    WEIGHTS[FactorCode.REPAIRED_HISTORY].per_item,
                    f"{what} was repaired on {lifted.date()}",
                )
        elif (
            entry.get("validTo") is not None
            and entry["validTo"] <= day
            and entry["kind"] in PUNITIVE_KINDS
            and entry["recognized"]
        ):
            expired.add(
                WEIGHTS[FactorCode.EXPIRED_HISTORY].per_item,
                f"{what} expired on {entry['validTo']}",
            )

    # one factor per sanctioned party, by its strongest path
    best: dict[str, tuple[tuple[float, int, str], dict[str, Any]]] = {}
    for item in facts["near"]:
        if item["id"] == subject_id:
            continue
        key = (_party_weight(item), -len(item["path"]), item["sanction"]["id"])
        if item["id"] not in best or key > best[item["id"]][0]:
            best[item["id"]] = (key, item)
    parties = {1: _Capped(FactorCode.SANCTIONED_PARTY_D1, factors),
               2: _Capped(FactorCode.SANCTIONED_PARTY_D2, factors)}  # fmt: skip
    for (weight, _, _), item in sorted(best.values(), key=lambda b: (-b[0][0], b[1]["id"])):
        distance = len(item["path"])
        sanction = item["sanction"]
        parties[distance].add(
            weight,
            f"{item['id']} ({item.get('name') or item['kind']}) is on {sanction['listType']} "
            f"({sanction['kind']}, {sanction['id']}); path: {_path_text(item['path'])}",
        )

    suspects = _Capped(FactorCode.SUSPECTED_LINK_TO_SANCTIONED, factors)
    by_subject: dict[str, list[str]] = {}
    for s in facts["suspects"]:
        by_subject.setdefault(s["id"], []).append(s["basis"])
    for other in sorted(by_subject):
        bases = " and ".join(sorted(set(by_subject[other])))
        suspects.add(
            WEIGHTS[FactorCode.SUSPECTED_LINK_TO_SANCTIONED].per_item,
            f"sanctioned subject {other} ({bases}; a suspected link, not a registered one)",
        )

    if facts["cycles"]:
        cycle = facts["cycles"][0]
        _Capped(FactorCode.CIRCULAR_SHAREHOLDING, factors).add(
            WEIGHTS[FactorCode.CIRCULAR_SHAREHOLDING].per_item,
            "shareholding cycle " + " -> ".join(cycle),
        )

    if (
        facts["kind"] != SubjectKind.PERSON.value
        and facts["unitsAtAddress"] >= CROWDED_ADDRESS_UNITS
    ):
        _Capped(FactorCode.CROWDED_ADDRESS, factors).add(
            WEIGHTS[FactorCode.CROWDED_ADDRESS].per_item,
            f"{facts['unitsAtAddress']} other units are registered at the same address",
        )

    changes = legal_representative_changes(facts["reps"], day)
    if len(changes) >= CHURN_MIN_CHANGES:
        churn = _Capped(FactorCode.LEGAL_REPRESENTATIVE_CHURN, factors)
        dates = ", ".join(f"{c['validFrom']} ({c['person']})" for c in changes)
        churn.add(
            WEIGHTS[FactorCode.LEGAL_REPRESENTATIVE_CHURN].per_item * len(changes),
            f"{len(changes)} new legal representatives in the last three years: {dates}",
        )

    total = sum(f.weight for f in factors)
    value = round(min(SCORE_MAX, max(SCORE_MIN, total)), 1)
    factors.sort(key=lambda f: (-abs(f.weight), f.code, f.detail))
    return Profile(subject_id, at, value, factors)


async def risk_profile(
    graph: Graph, subject_id: str, at: dt.datetime, *, config: RiskConfig = DEFAULT_CONFIG
) -> Profile:
    params = {
        "id": subject_id,
        "at": at,
        "day": city_date(at),
        "cap": config.degree_cap,
        "suspectLimit": config.suspect_limit,
        "punitiveKinds": list(PUNITIVE_KINDS),
    }
    rows = await graph.read(RISK_FACTS, params, name="riskProfile")
    if not rows:
        raise NotFound(f"subjectId: no subject {subject_id}", field="subjectId")
    return score(native(rows[0]), subject_id, at)
