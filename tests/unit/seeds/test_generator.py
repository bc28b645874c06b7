"""The world generator and the demo world, without a database."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections import Counter, defaultdict

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.identifiers import (
    TYPE_CODES_BY_KIND,
    SubjectKind,
    validate_resident_id,
    validate_subject_id,
)
from domain.vocabulary import KIND_LABEL, RELATION_ENDS, ROLE_VALUES, Rel
from rules.loader import load_catalogue
from seeds.dates import add_years
from seeds.demo import DEMO_SHOWCASE, SHOWCASE_NAME, demo_world
from seeds.generator import SUBJECT_RELS, World, WorldSpec, batched, generate
from seeds.layout import plan_layout
from seeds.lists import LIST_BY_TYPE, default_recognition, issuer_id
from seeds.rows import LinkRow, SubjectRow
from seeds.spec import CITY_MIX
from tests.unit.seeds.snapshots import (
    WORLD_TODAY,
    Snapshot,
    assert_shares_within_the_whole,
    snapshot,
    valid_on,
)

DISTRICT_CODES = {
    "330302", "330303", "330304", "330305", "330324", "330326",
    "330327", "330328", "330329", "330381", "330382", "330383",
}  # fmt: skip
# Which subject kinds each list may name (what the brief and DESIGN.md say).
LIST_KINDS = {
    "DISHONEST_JUDGMENT_DEBTOR": set(SubjectKind),
    "SAMR_SERIOUS_ILLEGAL": {SubjectKind.ENTERPRISE, SubjectKind.PUBLIC_INSTITUTION,
                             SubjectKind.INDIVIDUAL_BUSINESS},
    "MAJOR_TAX_VIOLATION": {SubjectKind.ENTERPRISE, SubjectKind.PUBLIC_INSTITUTION,
                            SubjectKind.INDIVIDUAL_BUSINESS},
    "GOV_PROCUREMENT_BAD_RECORD": {SubjectKind.ENTERPRISE, SubjectKind.PUBLIC_INSTITUTION,
                                   SubjectKind.INDIVIDUAL_BUSINESS},
    "CUSTOMS_DISHONEST": {SubjectKind.ENTERPRISE},
    "WAGE_ARREARS_DISHONEST": set(SubjectKind),
    "SAMR_ABNORMAL_OPERATION": {SubjectKind.ENTERPRISE, SubjectKind.INDIVIDUAL_BUSINESS},
    "TAX_A_LEVEL": {SubjectKind.ENTERPRISE},
    "CUSTOMS_AEO": {SubjectKind.ENTERPRISE},
}  # fmt: skip
ISSUERS = {
    "DISHONEST_JUDGMENT_DEBTOR": ("intermediate-court", "BLACK"),
    "SAMR_SERIOUS_ILLEGAL": ("amr", "BLACK"),
    "MAJOR_TAX_VIOLATION": ("tax", "BLACK"),
    "GOV_PROCUREMENT_BAD_RECORD": ("finance", "BLACK"),
    "CUSTOMS_DISHONEST": ("customs", "BLACK"),
    "WAGE_ARREARS_DISHONEST": ("hrss", "BLACK"),
    "SAMR_ABNORMAL_OPERATION": ("amr", "WATCH"),
    "TAX_A_LEVEL": ("tax", "RED"),
    "CUSTOMS_AEO": ("customs", "RED"),
}


@pytest.fixture(scope="module")
def world() -> World:
    return generate(WorldSpec(n_subjects=10_000))


@pytest.fixture(scope="module")
def snap(world: World) -> Snapshot:
    return snapshot(world)


@pytest.fixture(scope="module")
def listed() -> Snapshot:
    """A world with many list entries, to see their every variety."""
    return snapshot(
        generate(WorldSpec(n_subjects=10_000, unit_sanction_rate=0.3, person_sanction_rate=0.03))
    )


@pytest.fixture(scope="module")
def demo() -> Snapshot:
    return snapshot(demo_world())


# -- determinism and shape ---------------------------------------------------------------


def test_same_spec_gives_the_same_world_and_another_seed_another() -> None:
    spec = WorldSpec(n_subjects=2_000)
    first, second = snapshot(generate(spec)), snapshot(generate(spec))
    assert first == second
    other = snapshot(generate(WorldSpec(n_subjects=2_000, seed=7)))
    assert other.subjects[SubjectKind.PERSON] != first.subjects[SubjectKind.PERSON]


def test_a_block_is_rebuilt_identically_from_its_index(world: World) -> None:
    in_order = list(world.blocks())
    again = world.block(3)
    assert again.subjects(SubjectKind.ENTERPRISE) == in_order[3].subjects(SubjectKind.ENTERPRISE)
    assert again.links(Rel.SHAREHOLDER_OF) == in_order[3].links(Rel.SHAREHOLDER_OF)
    assert again.sanctions() == in_order[3].sanctions()


def test_counts_match_what_the_streams_yield(world: World, snap: Snapshot) -> None:
    counts = world.counts()
    for kind, rows in snap.subjects.items():
        assert counts[KIND_LABEL[kind].value] == len(rows)
    assert counts["Subject"] == 10_000
    assert counts["Household"] == len(snap.households)
    assert counts["MEMBER_OF"] == len(snap.memberships)
    for rel, links in snap.links.items():
        assert counts[rel.value] == len(links)
    assert counts["Sanction"] == counts["ISSUED"] == counts["AGAINST"] == len(snap.sanctions)
    assert counts["RESPONSIBLE_PERSON"] == sum(
        len(set(s["responsiblePersonIds"])) for s in snap.sanctions
    )
    assert counts["Department"] == len({s["issuerId"] for s in snap.sanctions})
    assert [d["id"] for d in world.departments()] == sorted({s["issuerId"] for s in snap.sanctions})


def test_batches_regroup_the_same_rows_by_kind_and_type(world: World, snap: Snapshot) -> None:
    by_kind: dict[SubjectKind, list[SubjectRow]] = defaultdict(list)
    for kind, rows in world.subject_batches(700):
        assert 0 < len(rows) <= 700
        by_kind[kind].extend(rows)
    assert dict(by_kind) == snap.subjects
    by_rel: dict[Rel, list[LinkRow]] = defaultdict(list)
    for rel, links in world.link_batches(500):
        assert 0 < len(links) <= 500
        by_rel[rel].extend(links)
    assert {r: rows for r, rows in by_rel.items()} == {r: v for r, v in snap.links.items() if v}
    assert [len(b) for b in batched(range(7), 3)] == [3, 3, 1]


def test_kinds_come_in_the_citys_proportions(snap: Snapshot) -> None:
    total = sum(CITY_MIX.values())
    for kind, rows in snap.subjects.items():
        assert abs(len(rows) / 10_000 - CITY_MIX[kind] / total) < 1e-4
    assert {row["district"] for row in snap.all_subjects} == DISTRICT_CODES


def test_the_full_city_plans_exactly_the_source_documents_numbers() -> None:
    spec = WorldSpec(n_subjects=9_472_000)
    assert spec.kind_counts() == {
        SubjectKind.ENTERPRISE: 346_000,
        SubjectKind.PUBLIC_INSTITUTION: 14_000,
        SubjectKind.INDIVIDUAL_BUSINESS: 792_000,
        SubjectKind.PERSON: 8_320_000,
    }
    layout = plan_layout(spec)
    assert layout.total(SubjectKind.PERSON) == 8_320_000
    assert layout.seq_width >= 2


def test_signature_industries_lean_to_their_districts(snap: Snapshot) -> None:
    def share(district: str, industry: str) -> float:
        firms = [r for r in snap.subjects[SubjectKind.ENTERPRISE] if r["district"] == district]
        return sum(r.get("industry") == industry for r in firms) / len(firms)

    assert share("330382", "ELECTRICAL_EQUIPMENT") > 2 * share("330302", "ELECTRICAL_EQUIPMENT")
    assert share("330324", "VALVES_PUMPS") > 2 * share("330302", "VALVES_PUMPS")
    assert share("330381", "AUTO_PARTS") > 2 * share("330302", "AUTO_PARTS")


def test_spec_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="n_subjects"):
        WorldSpec(n_subjects=0)
    with pytest.raises(ValueError, match="unit_sanction_rate"):
        WorldSpec(n_subjects=10, unit_sanction_rate=1.5)


# -- identifiers -------------------------------------------------------------------------


def test_every_id_is_valid_for_its_kind_and_unique(snap: Snapshot) -> None:
    seen: set[str] = set()
    for kind, rows in snap.subjects.items():
        for row in rows:
            assert validate_subject_id(row["id"], kind) == row["id"]
            if kind is SubjectKind.PERSON:
                assert row["id"][:6] == row["district"]
                assert row["id"][6:14] == f"{row['birthDate']:%Y%m%d}"
                assert 1940 <= row["birthDate"].year <= 2020
            else:
                assert row["id"][:2] in TYPE_CODES_BY_KIND[kind]
                assert row["id"][2:8] == row["district"]
            assert row["id"] not in seen
            seen.add(row["id"])
    assert {r["id"][:2] for r in snap.subjects[SubjectKind.ENTERPRISE]} == {"91", "93"}
    assert {r["id"][:2] for r in snap.subjects[SubjectKind.PUBLIC_INSTITUTION]} <= {
        "11",
        "12",
        "52",
    }
    assert {r["id"][:2] for r in snap.subjects[SubjectKind.INDIVIDUAL_BUSINESS]} == {"92"}


def test_household_link_and_sanction_ids_are_unique(snap: Snapshot) -> None:
    household_ids = [h["id"] for h in snap.households]
    assert len(set(household_ids)) == len(household_ids)
    assert all(re.fullmatch(r"\d{13}", h) and h[:6] in DISTRICT_CODES for h in household_ids)
    link_ids = [row["id"] for _, row in snap.all_links()]
    assert len(set(link_ids)) == len(link_ids)
    sanction_ids = [s["id"] for s in snap.sanctions]
    assert len(set(sanction_ids)) == len(sanction_ids)


# -- links -------------------------------------------------------------------------------


def test_links_join_the_right_kinds_with_sane_intervals(snap: Snapshot) -> None:
    kind_of = snap.kind_of
    households = {h["id"] for h in snap.households}
    births = {r["id"]: r["birthDate"] for r in snap.subjects[SubjectKind.PERSON]}
    for rel, row in snap.all_links():
        assert row["src"] != row["dst"]
        assert row["validTo"] is None or row["validTo"] > row["validFrom"]
        assert row["validFrom"] <= WORLD_TODAY
        assert row["source"]
        sources, targets = RELATION_ENDS[rel]
        assert kind_of[row["src"]] in sources
        if targets is None:
            assert row["dst"] in households
        else:
            assert kind_of[row["dst"]] in targets
        if rel in ROLE_VALUES:
            assert row.get("role") in ROLE_VALUES[rel]
        if rel is not Rel.MEMBER_OF and row["src"] in births:  # persons act as adults
            assert row["validFrom"] >= add_years(births[row["src"]], 18)


def test_every_unit_has_exactly_one_current_legal_representative(snap: Snapshot) -> None:
    current = Counter(
        r["dst"] for r in snap.links[Rel.LEGAL_REPRESENTATIVE_OF] if r["validTo"] is None
    )
    units = [
        r["id"] for k, rows in snap.subjects.items() if k is not SubjectKind.PERSON for r in rows
    ]
    assert all(current[u] == 1 for u in units)
    assert len(current) == len(units)
    by_unit: dict[str, list[LinkRow]] = defaultdict(list)
    for row in snap.links[Rel.LEGAL_REPRESENTATIVE_OF]:
        by_unit[row["dst"]].append(row)
    changed = 0
    for rows in by_unit.values():  # successive, never overlapping
        rows.sort(key=lambda r: r["validFrom"])
        for before, after in itertools.pairwise(rows):
            assert before["validTo"] is not None and before["validTo"] <= after["validFrom"]
        changed += len(rows) > 1
    assert changed > 10  # some churn


def test_every_individual_business_has_one_operator(snap: Snapshot) -> None:
    operators = Counter(r["dst"] for r in snap.links[Rel.OPERATOR_OF])
    businesses = {r["id"] for r in snap.subjects[SubjectKind.INDIVIDUAL_BUSINESS]}
    assert set(operators) == businesses
    assert set(operators.values()) == {1}


def test_shareholdings_never_add_up_to_more_than_the_whole(snap: Snapshot) -> None:
    assert_shares_within_the_whole(snap)
    holders = Counter(snap.kind_of[r["src"]] for r in snap.links[Rel.SHAREHOLDER_OF])
    assert holders[SubjectKind.PERSON] and holders[SubjectKind.ENTERPRISE]


def test_there_are_cross_holding_cycles(snap: Snapshot, demo: Snapshot) -> None:
    for s in (snap, demo):
        graph = nx.DiGraph((r["src"], r["dst"]) for r in s.links[Rel.SHAREHOLDER_OF])
        assert any(True for _ in nx.simple_cycles(graph))


def test_households_have_one_head_and_sane_roles(snap: Snapshot) -> None:
    births = {r["id"]: r["birthDate"] for r in snap.subjects[SubjectKind.PERSON]}
    members: dict[str, list[LinkRow]] = defaultdict(list)
    for row in snap.memberships:
        members[row["dst"]].append(row)
    assert set(members) == {h["id"] for h in snap.households}
    in_households = Counter(r["src"] for r in snap.memberships)
    assert set(in_households) == set(births) and set(in_households.values()) == {1}
    sizes = Counter(len(rows) for rows in members.values())
    assert set(sizes) <= set(range(1, 7))
    assert 2.3 < sum(k * v for k, v in sizes.items()) / len(members) < 2.9
    for rows in members.values():
        roles = Counter(r["role"] for r in rows)
        assert roles["HEAD"] == 1
        assert roles["SPOUSE"] <= 1
        head = next(births[r["src"]] for r in rows if r["role"] == "HEAD")
        for row in rows:
            assert row["validFrom"] >= births[row["src"]]
            if row["role"] == "CHILD":
                assert births[row["src"]] > head
            if row["role"] == "PARENT":
                assert births[row["src"]] < head


def test_leaders_are_adults_and_many_are_parents(snap: Snapshot) -> None:
    role = {r["src"]: r["role"] for r in snap.memberships}
    household = {r["src"]: r["dst"] for r in snap.memberships}
    with_child = {r["dst"] for r in snap.memberships if r["role"] == "CHILD"}
    leaders = {r["src"] for r in snap.links[Rel.LEGAL_REPRESENTATIVE_OF]}
    parents = [
        p for p in leaders if role[p] in {"HEAD", "SPOUSE", "PARENT"} and household[p] in with_child
    ]
    assert len(parents) > len(leaders) / 4


def test_a_few_subjects_share_a_phone_or_an_address(snap: Snapshot) -> None:
    for values in (
        [r["phoneHash"] for r in snap.all_subjects if "phoneHash" in r],
        [r["addressHash"] for r in snap.all_subjects if "addressHash" in r],
    ):
        assert all(re.fullmatch(r"[0-9a-f]{64}", v) for v in values)
        counts = Counter(values)
        shared = sum(n for n in counts.values() if n > 1)
        assert 0 < shared < 0.05 * len(snap.all_subjects)


# -- sanctions ---------------------------------------------------------------------------


def test_sanctions_are_issued_by_their_lists_department(listed: Snapshot) -> None:
    catalogue = load_catalogue()
    kind_of = listed.kind_of
    officers: dict[str, list[LinkRow]] = defaultdict(list)
    for row in listed.links[Rel.EXECUTIVE_OF]:
        officers[row["dst"]].append(row)
    for s in listed.sanctions:
        department, list_kind = ISSUERS[s["listType"]]
        assert s["issuerId"] == f"wz-{department}" == issuer_id(LIST_BY_TYPE[s["listType"]])
        assert catalogue.may_issue(s["issuerId"], s["listType"])
        assert s["kind"] == list_kind
        assert kind_of[s["subjectId"]] in LIST_KINDS[s["listType"]]
        assert dt.date(2021, 1, 1) <= s["decidedOn"] <= dt.date(2026, 10, 31)
        assert s["validFrom"] == s["decidedOn"]
        assert s["validTo"] in (None, add_years(s["decidedOn"], 3))
        assert s["status"] in {"ACTIVE", "UNDER_OBJECTION"}
        assert s["recognized"] == default_recognition(s["listType"], s["jurisdiction"])
        assert str(s["decidedOn"].year) in s["documentNo"]
        if s["liftKind"] is not None:
            assert s["liftKind"] == "REPAIRED"
            assert s["liftedAt"] is not None and s["liftedAt"].tzinfo is not None
            assert s["liftedAt"].date() > s["decidedOn"]
        else:
            assert s["liftedAt"] is None
        for person in s["responsiblePersonIds"]:
            assert any(
                r["src"] == person and valid_on(r, s["decidedOn"]) for r in officers[s["subjectId"]]
            )
    # the seed's cities: Wenzhou and its partners (the sources of bulk lists are not cities)
    cities = {
        j.id for j in catalogue.jurisdictions.values() if j.id not in {"zhejiang", "national"}
    }
    assert {s["jurisdiction"] for s in listed.sanctions} == cities
    assert {s["listType"] for s in listed.sanctions} == set(ISSUERS)
    assert {s["status"] for s in listed.sanctions} == {"ACTIVE", "UNDER_OBJECTION"}
    assert any(s["liftKind"] for s in listed.sanctions)
    assert any(s["responsiblePersonIds"] for s in listed.sanctions)
    assert any(s["validTo"] is None for s in listed.sanctions)
    assert not all(s["recognized"] for s in listed.sanctions)


def test_sanction_rates_follow_the_spec(world: World) -> None:
    counts = world.counts()
    units = counts["Subject"] - counts["Person"]
    against_units = sum(
        1 for s in world.sanctions() if not re.fullmatch(r"\d{17}[\dX]", s["subjectId"])
    )
    assert 0.5 * 0.01 * units < against_units < 2 * 0.011 * units
    quiet = generate(WorldSpec(n_subjects=10_000, unit_sanction_rate=0, person_sanction_rate=0))
    assert quiet.counts()["Sanction"] == 0


def test_recognition_is_decided_by_the_spec() -> None:
    spec = WorldSpec(n_subjects=5_000, recognition=lambda list_type, city: False)
    assert not any(s["recognized"] for s in generate(spec).sanctions())


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(min_value=30, max_value=1_500), seed=st.integers(0, 2**32))
def test_invariants_hold_at_any_small_scale(n: int, seed: int) -> None:
    world = generate(WorldSpec(n_subjects=n, seed=seed, unit_sanction_rate=0.2))
    s = snapshot(world)
    assert sum(len(rows) for rows in s.subjects.values()) == n
    ids = [r["id"] for r in s.all_subjects]
    assert len(set(ids)) == n
    for r in s.subjects[SubjectKind.PERSON]:
        validate_resident_id(r["id"])
    current = Counter(
        r["dst"] for r in s.links[Rel.LEGAL_REPRESENTATIVE_OF] if r["validTo"] is None
    )
    assert len(current) == n - len(s.subjects[SubjectKind.PERSON]) and set(current.values()) <= {1}
    assert world.counts()["Sanction"] == len(s.sanctions)


# -- the demo world ----------------------------------------------------------------------


def test_demo_world_is_small_skewed_and_has_every_link(demo: Snapshot) -> None:
    sizes = {kind: len(rows) for kind, rows in demo.subjects.items()}
    assert sizes == {
        SubjectKind.ENTERPRISE: 300,
        SubjectKind.PUBLIC_INSTITUTION: 40,
        SubjectKind.INDIVIDUAL_BUSINESS: 400,
        SubjectKind.PERSON: 1_260,
    }
    assert all(demo.links[rel] for rel in SUBJECT_RELS) and demo.memberships
    assert 30 <= len(demo.sanctions) <= 55
    catalogue = load_catalogue()
    for s in demo.sanctions:  # the demo agrees with the app's catalogue
        assert s["recognized"] == catalogue.is_recognized(s["jurisdiction"], s["listType"])
        assert catalogue.may_issue(s["issuerId"], s["listType"])
    assert len({s["listType"] for s in demo.sanctions}) >= 5
    assert {"BLACK", "RED", "WATCH"} <= {s["kind"] for s in demo.sanctions}


def test_demo_showcase_tells_its_story(demo: Snapshot) -> None:
    show = DEMO_SHOWCASE
    firm = [r for r in demo.all_subjects if r["name"] == SHOWCASE_NAME]
    assert [r["id"] for r in firm] == [show["dishonest_enterprise_id"]]
    assert firm[0]["district"] == "330302" and firm[0].get("industry") == "FOOTWEAR"

    debtor = [s for s in demo.sanctions if s["subjectId"] == show["dishonest_enterprise_id"]]
    assert [s["id"] for s in debtor] == [show["dishonest_sanction_id"]]
    entry = debtor[0]
    assert entry["listType"] == "DISHONEST_JUDGMENT_DEBTOR" and entry["kind"] == "BLACK"
    assert entry["recognized"] and entry["status"] == "ACTIVE" and entry["liftedAt"] is None
    assert entry["validFrom"] <= WORLD_TODAY < (entry["validTo"] or dt.date.max)
    assert entry["issuerId"] == "wz-intermediate-court"
    assert re.fullmatch(r"\(2025\)浙03执\d+号", entry["documentNo"])

    rep = show["legal_representative_id"]
    reps = [r for r in demo.links[Rel.LEGAL_REPRESENTATIVE_OF] if r["dst"] == firm[0]["id"]]
    assert [r["src"] for r in reps if valid_on(r, entry["decidedOn"])] == [rep]
    assert [r["src"] for r in reps if r["validTo"] is None] == [rep]

    household = {r["src"]: (r["dst"], r["role"]) for r in demo.memberships}
    assert household[rep] == (show["household_id"], "HEAD")
    assert household[show["child_id"]] == (show["household_id"], "CHILD")
    child_birth = validate_resident_id(show["child_id"])[6:14]
    assert child_birth >= "20100101"  # of school age in the world's 2026

    family = {p for p, (h, _) in household.items() if h == show["household_id"]}
    against = {s["subjectId"] for s in demo.sanctions} | {
        p for s in demo.sanctions for p in s["responsiblePersonIds"]
    }
    assert not family & against  # nothing else reaches the family

    red = [s for s in demo.sanctions if s["id"] == show["red_list_sanction_id"]]
    assert len(red) == 1 and red[0]["subjectId"] == show["red_list_enterprise_id"]
    assert red[0]["listType"] == "TAX_A_LEVEL" and red[0]["kind"] == "RED"
    assert red[0]["issuerId"] == "wz-tax" and red[0]["recognized"]
    assert demo.kind_of[show["red_list_enterprise_id"]] is SubjectKind.ENTERPRISE

    by_id = {s["id"]: s for s in demo.sanctions}
    relayed = by_id[show["partner_recognised_sanction_id"]]
    assert relayed["subjectId"] == show["partner_recognised_person_id"]
    assert (relayed["jurisdiction"], relayed["recognized"]) == ("jiaxing", True)
    stored = by_id[show["partner_unrecognised_sanction_id"]]
    assert stored["subjectId"] == show["partner_unrecognised_enterprise_id"]
    assert (stored["jurisdiction"], stored["recognized"]) == ("huzhou", False)
