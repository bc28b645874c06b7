"""The integrity score as a pure function of a person's facts; benefits and partners."""

from __future__ import annotations

import datetime as dt
from typing import Any

from domain.scoring.integrity import age_on, birth_date
from domain.time import CITY_TZ
from rules import Catalogue
from rules.evaluation import EvaluationConfig
from rules.scoring.integrity import (
    IntegrityScore,
    Link,
    PersonFacts,
    eligibility,
    recognition,
    score_person,
)
from tests.unit.evaluation.helpers import sanction_row

AT = dt.datetime(2026, 11, 27, 10, 0, tzinfo=CITY_TZ)
PERSON = {"id": "330302197505170011", "kind": "PERSON", "name": "王小明", "district": "330302"}
UNIT = {"id": "91330302MA00000001", "kind": "ENTERPRISE", "name": "温州某鞋业有限公司"}


def entry(list_type: str, kind: str, subject: str = PERSON["id"], **fields: Any) -> dict[str, Any]:
    return sanction_row(f"S-{list_type}-{subject[-4:]}", list_type, kind, subject, **fields)


def household(since: dt.date = dt.date(2010, 1, 1)) -> Link:
    return Link({"id": "3303020100001"}, "MEMBER_OF", "HEAD", since, None)


def lead(
    relation: str, sanctions: tuple[dict[str, Any], ...] = (), role: str | None = None, **dates: Any
) -> Link:
    return Link(
        UNIT, relation, role, dates.get("start", dt.date(2019, 1, 1)), dates.get("end"), sanctions
    )


def facts(**parts: Any) -> PersonFacts:
    return PersonFacts(
        person=parts.get("person", PERSON),
        own=tuple(parts.get("own", ())),
        named=tuple(parts.get("named", ())),
        households=tuple(parts.get("households", ())),
        led=tuple(parts.get("led", ())),
    )


def run(config: EvaluationConfig, catalogue: Catalogue, person: PersonFacts) -> IntegrityScore:
    result = score_person(person, AT, config, catalogue)
    assert result.score == sum(d.score for d in result.dimensions)
    return result


def dims(result: IntegrityScore) -> dict[str, int]:
    return {d.name: d.score for d in result.dimensions}


def test_plain_and_settled_residents(config: EvaluationConfig, catalogue: Catalogue) -> None:
    plain = run(config, catalogue, facts())
    assert dims(plain) == {
        "IDENTITY": 120, "LAW_ABIDING": 300, "COMMERCIAL_CREDIT": 100, "DAILY_LIFE": 90,
        "SOCIAL_CONTRIBUTION": 20,
    }  # fmt: skip
    assert (plain.score, plain.band.code) == (630, "GOOD")
    settled = run(config, catalogue, facts(households=[household()]))
    assert (settled.score, settled.band.code) == (720, "EXCELLENT")
    recent = run(config, catalogue, facts(households=[household(dt.date(2023, 1, 1))]))
    assert dims(recent)["DAILY_LIFE"] == 90 + 3 * 6
    # an ended household registration does not count
    moved = Link({"id": "h"}, "MEMBER_OF", "HEAD", dt.date(2000, 1, 1), dt.date(2020, 1, 1))
    assert run(config, catalogue, facts(households=[moved])).score == 630


def test_identity_by_age_and_origin(config: EvaluationConfig, catalogue: Catalogue) -> None:
    child = {"id": "330302201505170014", "kind": "PERSON", "name": "王小", "district": "330302"}
    assert dims(run(config, catalogue, facts(person=child)))["IDENTITY"] == 60 + 20 + 20
    outsider = {"id": "110105194912310029", "kind": "PERSON", "name": "李四", "district": None}
    assert dims(run(config, catalogue, facts(person=outsider)))["IDENTITY"] == 60 + 20
    assert (
        birth_date(outsider) == dt.date(1949, 12, 31)
        and age_on(dt.date(1949, 12, 31), AT.date()) == 76
    )
    assert birth_date({"id": "x", "birthDate": dt.date(2000, 1, 1)}) == dt.date(2000, 1, 1)


def test_law_abiding_counts_own_named_and_led_entries(
    config: EvaluationConfig, catalogue: Catalogue
) -> None:
    own = run(config, catalogue, facts(own=[entry("DISHONEST_JUDGMENT_DEBTOR", "BLACK")]))
    assert dims(own)["LAW_ABIDING"] == 50 and own.band.code == "NEEDS_IMPROVEMENT"
    named = run(config, catalogue, facts(named=[entry("MAJOR_TAX_VIOLATION", "BLACK", UNIT["id"])]))
    assert dims(named)["LAW_ABIDING"] == 150
    unit_entry = entry("DISHONEST_JUDGMENT_DEBTOR", "BLACK", UNIT["id"])
    # led it when decided (and since left): responsible, not commercial
    former = lead("LEGAL_REPRESENTATIVE_OF", (unit_entry,), end=dt.date(2025, 6, 1))
    result = run(config, catalogue, facts(led=[former]))
    assert dims(result)["LAW_ABIDING"] == 200 and dims(result)["COMMERCIAL_CREDIT"] == 100
    # took over later: commercial (a C unit), not responsible
    later = lead("LEGAL_REPRESENTATIVE_OF", (unit_entry,), start=dt.date(2025, 6, 1))
    result = run(config, catalogue, facts(led=[later]))
    assert dims(result)["LAW_ABIDING"] == 300 and dims(result)["COMMERCIAL_CREDIT"] == 70
    # a director is not a leader; a chair is
    director = lead("EXECUTIVE_OF", (unit_entry,), role="DIRECTOR")
    assert run(config, catalogue, facts(led=[director])).score == 630
    chair = lead("EXECUTIVE_OF", (unit_entry,), role="CHAIR")
    assert run(config, catalogue, facts(led=[chair])).score == 500
    # two links to the same unit count once
    both = run(config, catalogue, facts(led=[chair, lead("ACTUAL_CONTROLLER_OF", (unit_entry,))]))
    assert both.score == 500


def test_history_watch_lists_and_red_lists(config: EvaluationConfig, catalogue: Catalogue) -> None:
    def law_abiding_once_lifted(kind: str, days_ago: int, **fields: Any) -> int:
        """LAW_ABIDING of a person whose one black-list entry was lifted `days_ago`."""
        lifted = AT - dt.timedelta(days=days_ago)
        own = entry("DISHONEST_JUDGMENT_DEBTOR", "BLACK", liftKind=kind, liftedAt=lifted, **fields)
        return dims(run(config, catalogue, facts(own=[own])))["LAW_ABIDING"]

    assert law_abiding_once_lifted("REPAIRED", 30) == 190
    decided_2020 = {"decidedOn": dt.date(2020, 1, 1), "validFrom": dt.date(2020, 1, 1)}
    assert law_abiding_once_lifted("REPAIRED", 1200, **decided_2020) == 250
    assert law_abiding_once_lifted("REVOKED", 30) == 300
    watch = run(config, catalogue, facts(own=[entry("TAX_ARREARS_WATCH", "WATCH")]))
    assert dims(watch)["DAILY_LIFE"] == 30 and dims(watch)["LAW_ABIDING"] == 250
    reds = (entry("TAX_A_LEVEL", "RED", UNIT["id"]), entry("CREDIT_MODEL_UNIT", "RED", UNIT["id"]))
    leader = run(
        config,
        catalogue,
        facts(households=[household()], led=[lead("LEGAL_REPRESENTATIVE_OF", reds)]),
    )
    assert dims(leader)["COMMERCIAL_CREDIT"] == 130 and dims(leader)["SOCIAL_CONTRIBUTION"] == 100
    assert (leader.score, leader.band.code) == (830, "OUTSTANDING")
    capped = run(config, catalogue, facts(own=[entry("TAX_A_LEVEL", "RED"), entry("CUSTOMS_AEO", "RED")],
                                          led=[lead("LEGAL_REPRESENTATIVE_OF", reds)]))  # fmt: skip
    social = next(d for d in capped.dimensions if d.name == "SOCIAL_CONTRIBUTION")
    assert social.score == 200 and social.factors[-1].code == "DIMENSION_RANGE"


def test_every_dimension_is_explained(config: EvaluationConfig, catalogue: Catalogue) -> None:
    result = run(
        config,
        catalogue,
        facts(own=[entry("DISHONEST_JUDGMENT_DEBTOR", "BLACK")], households=[household()]),
    )
    for dimension in result.dimensions:
        assert dimension.factors and dimension.detail
        assert 0 <= dimension.score <= dimension.max
    law = next(d for d in result.dimensions if d.name == "LAW_ABIDING")
    assert "S-DISHONEST_JUDGMENT_DEBTOR-0011" in law.detail and "失信被执行人" in law.detail


def test_eligibility_and_recognition(config: EvaluationConfig, catalogue: Catalogue) -> None:
    found = eligibility(699, config.integrity.benefits)
    assert [e.benefit.min_score for e in found] == sorted(e.benefit.min_score for e in found)
    by_id = {e.benefit.id: e for e in found}
    assert by_id["LIBRARY_DEPOSIT_FREE"].qualified and by_id["LIBRARY_DEPOSIT_FREE"].gap == 0
    assert (
        not by_id["SCENIC_SPOTS_HALF_PRICE"].qualified and by_id["SCENIC_SPOTS_HALF_PRICE"].gap == 1
    )
    assert by_id["SCENIC_SPOTS_FREE"].gap == 51
    good = {
        r.jurisdiction: r.recognized
        for r in recognition(config.integrity.band_of(650), config, catalogue)
    }
    assert good == {"jiaxing": True, "jinhua": False, "huzhou": False}
    fair = recognition(config.integrity.band_of(560), config, catalogue)
    assert not any(r.recognized for r in fair) and fair[0].name == "嘉兴"
