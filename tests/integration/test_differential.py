"""The production check engine (Cypher) against the reference (pure Python, networkx).

Random worlds from `tests.reference.worlds` are loaded into the real Neo4j and every
check is answered by both engines: decision, subjectKnown and the set of applied
measures (measure, role, sanction, path, suppressed) must be identical. The hand-written
worlds below pin the tricky corners of DESIGN.md §3 and state the expected answer
literally, then hold production to it as well.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from domain.identifiers import SubjectKind, make_resident_id, make_uscc
from domain.vocabulary import Rel
from graph_model.checks import CheckEngine
from graph_model.driver import Graph
from rules.loader import load_catalogue
from tests.reference.engine import (
    CITY_TZ,
    Check,
    Household,
    Link,
    Outcome,
    Sanction,
    Subject,
    World,
)
from tests.reference.worlds import (
    differences,
    load_ballast,
    load_world,
    production_outcomes,
    reference_outcomes,
    worlds,
)

CATALOGUE = load_catalogue()
UTC = dt.UTC


@pytest.fixture(scope="module")
def engine() -> CheckEngine:
    return CheckEngine(CATALOGUE)


@pytest.fixture
async def ballast(graph: Graph, clean_graph: None) -> None:
    """After the per-test wipe: ballast that keeps the graph's statistics (and with them
    Neo4j's cached plans) still from one random world to the next."""
    await load_ballast(graph, CATALOGUE)


# ------------------------------------------------------------------------------ random worlds


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds(CATALOGUE))
async def test_production_agrees_with_reference_on_random_worlds(
    graph: Graph, engine: CheckEngine, ballast: None, world: World
) -> None:
    mismatches = await differences(graph, engine, CATALOGUE, world)
    assert not mismatches, (
        "\n\n".join(m.describe() for m in mismatches)
        + "\n\nworld: "
        + json.dumps(world.to_json(), ensure_ascii=False)
    )


# ------------------------------------------------------------------------------ pinned worlds

P = [make_resident_id("330302", dt.date(1970 + n, 1 + n, 1 + n), n) for n in range(1, 9)]
E = [make_uscc("91", "330302", f"MA{n:06d}") for n in range(1, 5)]
IB = make_uscc("92", "330303", "MA000099")
H = ["HH00000001", "HH00000002"]
NAMES = {**{p: f"P{n}" for n, p in enumerate(P, 1)}, **{e: f"E{n}" for n, e in enumerate(E, 1)}}
NAMES |= {IB: "IB", H[0]: "H1", H[1]: "H2"}


def subjects(*ids: str) -> tuple[Subject, ...]:
    def kind(sid: str) -> SubjectKind:
        if sid == IB:
            return SubjectKind.INDIVIDUAL_BUSINESS
        return SubjectKind.ENTERPRISE if sid in E else SubjectKind.PERSON

    return tuple(Subject(sid, kind(sid)) for sid in ids)


def link(
    lid: str,
    source: str,
    relation: Rel,
    target: str,
    start: str,
    end: str | None = None,
    role: str | None = None,
) -> Link:
    return Link(
        lid,
        source,
        target,
        relation,
        dt.date.fromisoformat(start),
        None if end is None else dt.date.fromisoformat(end),
        role,
    )


def sanction(
    sid: str,
    list_type: str,
    subject: str,
    decided: str,
    *,
    valid_from: str | None = None,
    valid_to: str | None = None,
    lifted_at: dt.datetime | None = None,
    jurisdiction: str = "wenzhou",
    responsible: tuple[str, ...] = (),
) -> Sanction:
    return Sanction(
        id=sid,
        list_type=list_type,
        subject_id=subject,
        decided_on=dt.date.fromisoformat(decided),
        valid_from=dt.date.fromisoformat(valid_from or decided),
        valid_to=None if valid_to is None else dt.date.fromisoformat(valid_to),
        jurisdiction=jurisdiction,
        recognized=CATALOGUE.is_recognized(jurisdiction, list_type),
        lifted_at=lifted_at,
        responsible_person_ids=responsible,
    )


def city(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=CITY_TZ)


def summary(outcome: Outcome) -> dict[str, Any]:
    """An outcome in the symbolic names above: decision and (measure, role, sanction,
    path as (from, relation, to) names, suppressed) rows."""
    return {
        "known": outcome.subject_known,
        "decision": outcome.decision,
        "measures": {
            (
                r.measure_id,
                r.role,
                r.sanction_id,
                tuple((NAMES[s.source], s.relation, NAMES[s.target]) for s in r.path),
                r.suppressed,
            )
            for r in outcome.measures
        },
    }


async def both(graph: Graph, engine: CheckEngine, world: World) -> list[dict[str, Any]]:
    """The reference's answers (symbolic), after checking production gives the same."""
    expected = reference_outcomes(CATALOGUE, world)
    await load_world(graph, world, CATALOGUE)
    actual = await production_outcomes(graph, engine, world)
    for check, want, got in zip(world.checks, expected, actual, strict=True):
        assert summary(got) == summary(want), f"{check}: production differs from the reference"
        assert got == want, f"{check}: production differs from the reference (path dates)"
    return [summary(o) for o in expected]


def rows(*measures: str, role: str, sanction_id: str, path: tuple[Any, ...] = ()) -> set[Any]:
    return {(m, role, sanction_id, path, False) for m in measures}


def known(decision: str, measures: set[Any]) -> dict[str, Any]:
    """The summary of a registered subject's outcome."""
    return {"known": True, "decision": decision, "measures": measures}


SOCIAL_LR = ("DJD-HC-HOTEL", "DJD-HC-OFFICE", "DJD-HC-TOURISM", "DJD-HONOURS")
CLEAR = known("CLEAR", set())


async def test_decision_date_roles_look_at_the_day_of_the_decision(
    graph: Graph, engine: CheckEngine
) -> None:
    """LEGAL_REPRESENTATIVE is evaluated on the decision date: whoever was LR that day
    stays reached after leaving; whoever became LR later is not; a link ending on the
    decision date was not valid that day, one starting on it was. Of two links valid
    that day, the canonical path takes the earlier-starting one."""
    at = city("2025-01-01T10:00:00")
    world = World(
        subjects=subjects(E[0], *P[:5]),
        links=(
            link("L1", P[0], Rel.LEGAL_REPRESENTATIVE_OF, E[0], "2020-01-01", "2024-03-02"),
            link("L2", P[1], Rel.LEGAL_REPRESENTATIVE_OF, E[0], "2024-03-02"),
            link("L3", P[2], Rel.LEGAL_REPRESENTATIVE_OF, E[0], "2022-01-01", "2024-03-01"),
            link("L4", P[3], Rel.LEGAL_REPRESENTATIVE_OF, E[0], "2024-03-01"),
            link("L5", P[4], Rel.LEGAL_REPRESENTATIVE_OF, E[0], "2021-01-01", "2024-06-01"),
            link("L6", P[4], Rel.LEGAL_REPRESENTATIVE_OF, E[0], "2019-05-05"),
        ),
        sanctions=(sanction("S1", "DISHONEST_JUDGMENT_DEBTOR", E[0], "2024-03-01"),),
        checks=tuple(Check(p, "SOCIAL_GOVERNANCE", at) for p in P[:5]),
    )
    got = await both(graph, engine, world)
    lr = "LEGAL_REPRESENTATIVE"
    assert got[0]["decision"] == "PROHIBITED"
    path_of = {n: ((f"P{n}", "LEGAL_REPRESENTATIVE_OF", "E1"),) for n in range(1, 6)}
    assert got[0]["measures"] == rows(*SOCIAL_LR, role=lr, sanction_id="S1", path=path_of[1])
    assert got[1] == CLEAR  # became LR after the decision
    assert got[2] == CLEAR  # validTo == decision date: not valid that day
    assert got[3]["measures"] == rows(*SOCIAL_LR, role=lr, sanction_id="S1", path=path_of[4])
    assert got[4]["measures"] == rows(*SOCIAL_LR, role=lr, sanction_id="S1", path=path_of[5])
    canonical = {r.path for r in reference_outcomes(CATALOGUE, world)[4].measures}
    assert [[s.valid_from for s in p] for p in canonical] == [[dt.date(2019, 5, 5)]]


async def test_led_unit_looks_at_the_check_time(graph: Graph, engine: CheckEngine) -> None:
    """LED_UNIT is evaluated at check time, in the city's day: a unit the sanctioned
    person began to lead after the decision is reached; one they stopped leading before
    the check is not, and the city's midnight is where that changes."""
    world = World(
        subjects=subjects(P[0], E[0], E[1]),
        links=(
            link("L1", P[0], Rel.LEGAL_REPRESENTATIVE_OF, E[0], "2024-01-01"),
            link("L2", P[0], Rel.ACTUAL_CONTROLLER_OF, E[1], "2022-01-01", "2024-05-31"),
        ),
        sanctions=(sanction("S1", "SAMR_SERIOUS_ILLEGAL", P[0], "2023-01-10"),),
        checks=(
            Check(E[0], "RISK_PREVENTION_CONTROL", city("2024-06-01T09:00:00")),
            Check(E[1], "RISK_PREVENTION_CONTROL", city("2024-05-30T23:59:59")),
            Check(E[1], "RISK_PREVENTION_CONTROL", dt.datetime(2024, 5, 30, 16, tzinfo=UTC)),
            Check(E[0], "RISK_PREVENTION_CONTROL", city("2023-12-31T23:59:59")),
        ),
    )
    got = await both(graph, engine, world)

    def led(relation: str, unit: str) -> set[Any]:
        path = (("P1", relation, unit),)
        return rows("SAMR-LED-UNIT-RISK", role="LED_UNIT", sanction_id="S1", path=path)

    assert got[0] == known("ALERT", led("LEGAL_REPRESENTATIVE_OF", "E1"))
    assert got[1]["measures"] == led("ACTUAL_CONTROLLER_OF", "E2")
    assert got[2] == CLEAR  # 2024-05-31 00:00 in the city: the control link has ended
    assert got[3] == CLEAR  # the LR link starts the next city day


@pytest.mark.parametrize(
    ("via", "relation", "role"),
    [
        ("SELF", None, None),
        ("LEGAL_REPRESENTATIVE", Rel.LEGAL_REPRESENTATIVE_OF, None),
        ("PRINCIPAL_RESPONSIBLE_PERSON", Rel.EXECUTIVE_OF, "GENERAL_MANAGER"),
        ("ACTUAL_CONTROLLER", Rel.ACTUAL_CONTROLLER_OF, None),
    ],
)
async def test_household_child_through_each_guardian_path(
    graph: Graph, engine: CheckEngine, via: str, relation: Rel | None, role: str | None
) -> None:
    """HOUSEHOLD_CHILD: the guardian is the sanctioned person, or reached by LR / PRP /
    AC on the decision date; the household membership is read at check time. A child
    whose membership ended before the check, or whose guardian is only OTHER in the
    household, is not reached; a tie to the unit that began after the decision reaches
    no child either."""
    decided = "2024-03-01"
    at = city("2025-02-01T12:00:00")
    sanctioned = P[0] if via == "SELF" else E[0]
    links = [
        link("M1", P[0], Rel.MEMBER_OF, H[0], "2010-01-01", role="HEAD"),
        link("M2", P[1], Rel.MEMBER_OF, H[0], "2012-06-01", role="CHILD"),
        link("M3", P[2], Rel.MEMBER_OF, H[0], "2012-06-01", "2025-02-01", role="CHILD"),
        link("M4", P[3], Rel.MEMBER_OF, H[1], "2010-01-01", role="OTHER"),
        link("M5", P[4], Rel.MEMBER_OF, H[1], "2012-01-01", role="CHILD"),
        link("M6", P[5], Rel.MEMBER_OF, H[1], "2010-01-01", role="SPOUSE"),
        link("M7", P[6], Rel.MEMBER_OF, H[1], "2013-01-01", role="CHILD"),
    ]
    if relation is not None:
        links += [
            link("R1", P[0], relation, E[0], "2020-01-01", "2024-12-31", role),
            link("R2", P[3], relation, E[0], "2020-01-01", role=role),
            link("R3", P[5], relation, E[0], "2024-03-02", role=role),
        ]
    world = World(
        subjects=subjects(E[0], *P[:7]),
        households=(Household(H[0]), Household(H[1])),
        links=tuple(links),
        sanctions=(sanction("S1", "DISHONEST_JUDGMENT_DEBTOR", sanctioned, decided),),
        checks=tuple(Check(p, "CONVENIENCE_SERVICES", at) for p in (P[1], P[2], P[4], P[6])),
    )
    got = await both(graph, engine, world)
    tail = () if relation is None else (("P1", relation.value, "E1"),)
    path = (("P2", "MEMBER_OF", "H1"), ("P1", "MEMBER_OF", "H1"), *tail)
    assert got[0] == known(
        "RESTRICTED",
        rows("DJD-CHILD-PRIVATE-SCHOOL", role="HOUSEHOLD_CHILD", sanction_id="S1", path=path),
    )
    assert got[1] == CLEAR  # membership ended on the check's day
    assert got[2] == CLEAR  # the household's adult tied to the unit is only OTHER
    assert got[3] == CLEAR  # the SPOUSE's tie to the unit began after the decision


async def test_household_child_path_is_a_trail_that_may_revisit_a_node(
    graph: Graph, engine: CheckEngine
) -> None:
    """A sanctioned person registered both as HEAD and as CHILD of one household reaches
    themself as HOUSEHOLD_CHILD through two different links (nodes may repeat, links may
    not); with a single link they would not."""
    world = World(
        subjects=subjects(P[0], P[1]),
        households=(Household(H[0]), Household(H[1])),
        links=(
            link("M1", P[0], Rel.MEMBER_OF, H[0], "2015-01-01", role="HEAD"),
            link("M2", P[0], Rel.MEMBER_OF, H[0], "2015-01-01", role="CHILD"),
            link("M3", P[1], Rel.MEMBER_OF, H[1], "2015-01-01", role="PARENT"),
        ),
        sanctions=(
            sanction("S1", "DISHONEST_JUDGMENT_DEBTOR", P[0], "2024-01-01"),
            sanction("S2", "DISHONEST_JUDGMENT_DEBTOR", P[1], "2024-01-01"),
        ),
        checks=(
            Check(P[0], "CONVENIENCE_SERVICES", city("2024-06-01T00:00:00")),
            Check(P[1], "CONVENIENCE_SERVICES", city("2024-06-01T00:00:00")),
        ),
    )
    got = await both(graph, engine, world)
    self_rows = rows("DJD-HC-TRAVEL", "DJD-HC-VEHICLE", role="SELF", sanction_id="S1")
    child = rows(
        "DJD-CHILD-PRIVATE-SCHOOL",
        role="HOUSEHOLD_CHILD",
        sanction_id="S1",
        path=(("P1", "MEMBER_OF", "H1"), ("P1", "MEMBER_OF", "H1")),
    )
    assert got[0] == known("PROHIBITED", self_rows | child)
    assert got[1]["measures"] == rows(
        "DJD-HC-TRAVEL", "DJD-HC-VEHICLE", role="SELF", sanction_id="S2"
    )


async def test_lift_takes_effect_exactly_at_its_timestamp(
    graph: Graph, engine: CheckEngine
) -> None:
    """A lift at t: checks about t or later no longer see the sanction, checks about
    earlier times still do, whatever offset the time is written in."""
    lifted = dt.datetime(2025, 3, 1, 2, 0, tzinfo=UTC)
    area = "PUBLIC_RESOURCE_TRANSACTIONS"
    world = World(
        subjects=subjects(E[0]),
        sanctions=(
            sanction("S1", "DISHONEST_JUDGMENT_DEBTOR", E[0], "2024-01-01", lifted_at=lifted),
        ),
        checks=(
            Check(E[0], area, lifted),
            Check(E[0], area, lifted - dt.timedelta(seconds=1)),
            Check(E[0], area, lifted.astimezone(CITY_TZ)),
            Check(E[0], area, lifted - dt.timedelta(microseconds=1)),
        ),
    )
    got = await both(graph, engine, world)
    applied = rows(
        "DJD-BIDDING-BAN",
        "DJD-GOV-PROCUREMENT-BAN",
        "DJD-STATE-LAND",
        role="SELF",
        sanction_id="S1",
    )
    assert got[0] == CLEAR
    assert got[1] == known("PROHIBITED", applied)
    assert got[2] == CLEAR
    assert got[3] == got[1]


async def test_sanction_validity_is_read_in_the_city_day(graph: Graph, engine: CheckEngine) -> None:
    """validFrom ≤ d < validTo with d the city's day of `at` (UTC+8)."""
    area = "PUBLIC_RESOURCE_TRANSACTIONS"

    def utc(text: str) -> dt.datetime:
        return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)

    world = World(
        subjects=subjects(E[0]),
        sanctions=(
            sanction(
                "S1",
                "DISHONEST_JUDGMENT_DEBTOR",
                E[0],
                "2024-05-20",
                valid_from="2024-06-01",
                valid_to="2024-09-01",
            ),
        ),
        checks=(
            Check(E[0], area, utc("2024-05-31T15:59:59")),
            Check(E[0], area, utc("2024-05-31T16:00:00")),
            Check(E[0], area, utc("2024-08-31T15:59:59")),
            Check(E[0], area, utc("2024-08-31T16:00:00")),
        ),
    )
    got = await both(graph, engine, world)
    assert [g["decision"] for g in got] == ["CLEAR", "PROHIBITED", "PROHIBITED", "CLEAR"]


async def test_partner_entries_apply_only_when_recognised(
    graph: Graph, engine: CheckEngine
) -> None:
    """Jiaxing's lists are recognised for DISHONEST_JUDGMENT_DEBTOR but not for
    CUSTOMS_DISHONEST: the latter is stored and reaches no one."""
    area = "ADMINISTRATIVE_APPROVAL"
    at = city("2025-01-01T08:00:00")
    world = World(
        subjects=subjects(E[0], E[1], E[2]),
        sanctions=(
            sanction("S1", "CUSTOMS_DISHONEST", E[0], "2024-01-01", jurisdiction="jiaxing"),
            sanction("S2", "DISHONEST_JUDGMENT_DEBTOR", E[1], "2024-01-01", jurisdiction="jiaxing"),
            sanction("S3", "CUSTOMS_DISHONEST", E[2], "2024-01-01"),
        ),
        checks=(Check(E[0], area, at), Check(E[1], area, at), Check(E[2], area, at)),
    )
    assert [s.recognized for s in world.sanctions] == [False, True, True]
    got = await both(graph, engine, world)
    assert got[0] == CLEAR
    applied = ("DJD-GOV-INVESTMENT", "DJD-POSTS-COMPANY", "DJD-HC-PROPERTY")
    assert got[1] == known("PROHIBITED", rows(*applied, role="SELF", sanction_id="S2"))
    assert got[2] == known(
        "STRICT_REVIEW", rows("CUSTOMS-JOINT-REVIEW", role="SELF", sanction_id="S3")
    )


async def test_incentives_are_suppressed_by_a_punitive_measure(
    graph: Graph, engine: CheckEngine
) -> None:
    """A red-list incentive still listed but marked suppressed when a punitive measure
    applies in the same check; alone it makes the decision INCENTIVE. An unregistered
    well-formed id is CLEAR and unknown."""
    area = "ADMINISTRATIVE_APPROVAL"
    at = city("2025-01-01T08:00:00")
    unknown = make_uscc("91", "330302", "MA000777")
    world = World(
        subjects=subjects(E[0], E[1]),
        sanctions=(
            sanction("S1", "TAX_A_LEVEL", E[0], "2024-01-01"),
            sanction("S2", "MAJOR_TAX_VIOLATION", E[0], "2024-02-01"),
            sanction("S3", "TAX_A_LEVEL", E[1], "2024-01-01"),
        ),
        checks=(Check(E[0], area, at), Check(E[1], area, at), Check(unknown, area, at)),
    )
    got = await both(graph, engine, world)
    assert got[0] == known(
        "STRICT_REVIEW",
        {("TAXA-GREEN-CHANNEL", "SELF", "S1", (), True), ("TAX-D-LEVEL", "SELF", "S2", (), False)},
    )
    assert got[1] == known("INCENTIVE", rows("TAXA-GREEN-CHANNEL", role="SELF", sanction_id="S3"))
    assert got[2] == {"known": False, "decision": "CLEAR", "measures": set()}


async def test_named_persons_operators_and_executives(graph: Graph, engine: CheckEngine) -> None:
    """DIRECTLY_RESPONSIBLE_PERSON reaches the persons the sanction names (empty path);
    OPERATOR the operator of a sanctioned individual business on the decision date;
    DIRECTOR_SUPERVISOR_MANAGER any executive, PRINCIPAL_RESPONSIBLE_PERSON only the
    chair, general manager or principal."""
    world = World(
        subjects=subjects(E[0], P[0], P[1], P[2], P[3], IB),
        links=(
            link("X1", P[1], Rel.EXECUTIVE_OF, E[0], "2020-01-01", role="SUPERVISOR"),
            link("X2", P[2], Rel.EXECUTIVE_OF, E[0], "2020-01-01", role="CHAIR"),
            link("O1", P[3], Rel.OPERATOR_OF, IB, "2020-01-01", "2024-02-01"),
        ),
        sanctions=(
            sanction("S1", "MAJOR_TAX_VIOLATION", E[0], "2024-01-01", responsible=(P[0],)),
            sanction("S2", "CUSTOMS_DISHONEST", E[0], "2024-01-01"),
            sanction("S3", "DISHONEST_JUDGMENT_DEBTOR", IB, "2024-01-01"),
        ),
        checks=(
            Check(P[0], "FINANCING_SERVICES", city("2025-01-01T00:00:00")),
            Check(P[1], "ADMINISTRATIVE_APPROVAL", city("2025-01-01T00:00:00")),
            Check(P[2], "ADMINISTRATIVE_APPROVAL", city("2025-01-01T00:00:00")),
            Check(P[3], "SOCIAL_GOVERNANCE", city("2025-01-01T00:00:00")),
        ),
    )
    got = await both(graph, engine, world)
    assert got[0]["measures"] == rows(
        "TAX-FINANCING", role="DIRECTLY_RESPONSIBLE_PERSON", sanction_id="S1"
    )

    def reviewed(executive: str) -> set[Any]:
        path = ((executive, "EXECUTIVE_OF", "E1"),)
        return rows(
            "CUSTOMS-JOINT-REVIEW", role="DIRECTOR_SUPERVISOR_MANAGER", sanction_id="S2", path=path
        )

    assert got[1] == known("STRICT_REVIEW", reviewed("P2"))
    assert got[2]["measures"] == reviewed("P3")
    operator = rows(
        *("DJD-HC-HOTEL", "DJD-HC-OFFICE", "DJD-HC-TOURISM"),
        role="OPERATOR",
        sanction_id="S3",
        path=(("P4", "OPERATOR_OF", "IB"),),
    )
    assert got[3] == known("PROHIBITED", operator)
