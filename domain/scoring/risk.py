"""The risk score: the facts around a subject, turned into weighted factors.

The facts (read by `graph_model.risk.risk_profile`): the subject's own list entries
(applying or not), sanctioned parties within two links, subjects sharing a phone or an
address with it that are sanctioned, a shareholding cycle through it, how many other
units share its address, and its legal representatives over time. The weights are those
of `domain.scoring.risk_weights`; the score is the sum of the factors, clamped to 0..100.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from domain.identifiers import SubjectKind
from domain.scoring.factors import Factor
from domain.scoring.risk_weights import (
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
from domain.time import city_date
from domain.vocabulary import PUNITIVE_KINDS, Rel


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
