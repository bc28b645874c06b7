"""Link history (`WorldSpec.link_history`): ended ties added to a world, nothing else changed."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.identifiers import SubjectKind
from domain.vocabulary import RELATION_ENDS, ROLE_VALUES, Rel
from graph_model.contact_key import ContactKey
from graph_model.csv_import import link_row
from seeds.__main__ import main as seeds_main
from seeds.admin_import import write_csvs
from seeds.dates import LAST_EVENT, add_years
from seeds.demo import DEMO_SPEC
from seeds.generator import SUBJECT_RELS, World, WorldSpec, generate
from seeds.rows import LinkRow
from tests.unit.seeds.snapshots import (
    WORLD_TODAY,
    Snapshot,
    assert_shares_within_the_whole,
    snapshot,
    valid_on,
)

HISTORY = WorldSpec(n_subjects=10_000, link_history=True)
# the relationships history adds to (branches, operators and declared controllers it leaves)
HISTORY_RELS = {
    Rel.MEMBER_OF,
    Rel.EXECUTIVE_OF,
    Rel.LEGAL_REPRESENTATIVE_OF,
    Rel.SHAREHOLDER_OF,
}


@pytest.fixture(scope="module")
def world() -> World:
    return generate(HISTORY)


@pytest.fixture(scope="module")
def snap(world: World) -> Snapshot:
    return snapshot(world)


@pytest.fixture(scope="module")
def added(snap: Snapshot) -> dict[Rel, list[LinkRow]]:
    """The history's rows: those the same world without history does not have."""
    plain = snapshot(generate(WorldSpec(n_subjects=10_000)))
    ids = {row["id"] for _, row in plain.all_links()}
    out: dict[Rel, list[LinkRow]] = defaultdict(list)
    for rel, row in snap.all_links():
        if row["id"] not in ids:
            out[rel].append(row)
    return dict(out)


def _ended(row: LinkRow) -> bool:
    return row["validTo"] is not None and row["validFrom"] < row["validTo"] <= LAST_EVENT


# -- only adds -----------------------------------------------------------------------------


def test_history_is_off_by_default_and_in_the_demo() -> None:
    assert not WorldSpec(n_subjects=10).link_history
    assert not DEMO_SPEC.link_history


def test_history_only_adds_ended_ties_to_the_world_without_it() -> None:
    off = generate(WorldSpec(n_subjects=3_000, seed=11, unit_sanction_rate=0.2))
    on = generate(WorldSpec(n_subjects=3_000, seed=11, unit_sanction_rate=0.2, link_history=True))
    assert on.block_count == off.block_count
    added: Counter[Rel] = Counter()
    for index in range(off.block_count):
        a, b = off.block(index), on.block(index)
        for kind in SubjectKind:
            assert b.subjects(kind) == a.subjects(kind)
        assert b.households() == a.households()
        assert b.sanctions() == a.sanctions()
        for rel in Rel:
            before, after = a.links(rel), b.links(rel)
            # id for id, the rows without history are the first rows with it
            assert after[: len(before)] == before
            assert all(_ended(row) for row in after[len(before) :])
            added[rel] += len(after) - len(before)
    assert set(+added) == HISTORY_RELS

    # world-wide: the rows with history, less the history's, are the rows without it
    for rel in Rel:
        without = list(off.links(rel))
        kept = {row["id"] for row in without}
        with_history = list(on.links(rel))
        assert [r for r in with_history if r["id"] in kept] == without
        assert len(with_history) - len(without) == added[rel]
    before_counts, after_counts = off.counts(), on.counts()
    for key, value in before_counts.items():
        extra = added[Rel(key)] if key in {rel.value for rel in Rel} else 0
        assert after_counts[key] == value + extra, key


# -- the history's rows --------------------------------------------------------------------


def test_history_adds_about_one_tie_per_subject(
    world: World, added: dict[Rel, list[LinkRow]]
) -> None:
    counts = world.counts()
    links = sum(counts[rel.value] for rel in Rel)
    assert 2.12 < links / counts["Subject"] < 2.4
    assert set(added) == HISTORY_RELS
    persons = counts["Person"]
    assert 0.8 * persons < len(added[Rel.MEMBER_OF]) < 1.4 * persons


def test_counts_and_ids_cover_the_history(world: World, snap: Snapshot) -> None:
    counts = world.counts()
    assert counts["MEMBER_OF"] == len(snap.memberships)
    for rel, rows in snap.links.items():
        assert counts[rel.value] == len(rows)
    ids = [row["id"] for _, row in snap.all_links()]
    assert len(set(ids)) == len(ids)


def test_history_rows_are_ended_ties_the_import_accepts(
    snap: Snapshot, added: dict[Rel, list[LinkRow]]
) -> None:
    kind_of = snap.kind_of
    households = {h["id"] for h in snap.households}
    births = {r["id"]: r["birthDate"] for r in snap.subjects[SubjectKind.PERSON]}
    for rel, rows in added.items():
        sources, targets = RELATION_ENDS[rel]
        for row in rows:
            assert _ended(row), row
            assert not valid_on(row, WORLD_TODAY) and valid_on(row, row["validFrom"])
            assert kind_of[row["src"]] in sources
            assert row["dst"] in households if targets is None else kind_of[row["dst"]] in targets
            if rel in ROLE_VALUES:
                assert row.get("role") in ROLE_VALUES[rel]
            adult = 0 if rel is Rel.MEMBER_OF else 18
            assert row["validFrom"] >= add_years(births[row["src"]], adult)
            # what `creditlink import` (the registry's own rules) makes of the same row
            raw = {
                "id": row["id"],
                "relation": rel.value,
                "from": row["src"],
                "to": row["dst"],
                "validFrom": row["validFrom"].isoformat(),
                "validTo": row["validTo"].isoformat() if row["validTo"] else "",
                "ratio": str(row.get("ratio", "")),
                "role": row.get("role", ""),
                "source": row["source"],
            }
            parsed_rel, parsed = link_row(raw)
            assert parsed_rel is rel and parsed["validTo"] == row["validTo"]


def test_no_two_ties_of_a_type_join_a_pair_at_once(
    snap: Snapshot, added: dict[Rel, list[LinkRow]]
) -> None:
    by_pair: dict[tuple[Rel, str, str], list[LinkRow]] = defaultdict(list)
    for rel, row in snap.all_links():
        by_pair[(rel, row["src"], row["dst"])].append(row)
    for rows in by_pair.values():
        _successive(rows)
    # history goes further: it never joins a pair that another tie of its type joins
    for rel, rows in added.items():
        for row in rows:
            assert len(by_pair[(rel, row["src"], row["dst"])]) == 1


def test_one_legal_representative_at_a_time(
    snap: Snapshot, added: dict[Rel, list[LinkRow]]
) -> None:
    _one_legal_representative_at_a_time(snap)
    former = added[Rel.LEGAL_REPRESENTATIVE_OF]
    assert former and {snap.kind_of[r["dst"]] for r in former} == {SubjectKind.PUBLIC_INSTITUTION}
    heads = {
        (r["src"], r["dst"], r["validFrom"], r["validTo"]): r["role"]
        for r in added[Rel.EXECUTIVE_OF]
    }
    for row in former:  # a former head was its institution's head officer too, as long
        assert heads[(row["src"], row["dst"], row["validFrom"], row["validTo"])] in {
            "CHAIR",
            "PRINCIPAL",
        }
        # as of a day of their term, they were the one legal representative
        day = row["validFrom"]
        reps = [
            r["src"]
            for r in snap.links[Rel.LEGAL_REPRESENTATIVE_OF]
            if r["dst"] == row["dst"] and valid_on(r, day)
        ]
        assert reps == [row["src"]]


def test_one_household_at_a_time(snap: Snapshot, added: dict[Rel, list[LinkRow]]) -> None:
    _one_household_at_a_time(snap)
    births = {r["id"]: r["birthDate"] for r in snap.subjects[SubjectKind.PERSON]}
    head_of = {r["dst"]: r["src"] for r in snap.memberships if r["role"] == "HEAD"}
    past = added[Rel.MEMBER_OF]
    assert {r["role"] for r in past} == {"CHILD", "OTHER"}
    for row in past:
        if row["role"] == "CHILD":  # born to the household's head, or of that generation
            gap = births[row["src"]] - births[head_of[row["dst"]]]
            assert dt.timedelta(days=16 * 365) <= gap <= dt.timedelta(days=45 * 365 + 12)
    movers = Counter(r["src"] for r in past)
    assert max(movers.values()) == 3 and len(movers) > 0.5 * len(births)


def test_shareholdings_never_add_up_to_more_than_the_whole(
    snap: Snapshot, added: dict[Rel, list[LinkRow]]
) -> None:
    assert added[Rel.SHAREHOLDER_OF]
    assert_shares_within_the_whole(snap)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(min_value=30, max_value=1_500), seed=st.integers(0, 2**32))
def test_history_invariants_hold_at_any_small_scale(n: int, seed: int) -> None:
    world = generate(WorldSpec(n_subjects=n, seed=seed, link_history=True))
    s = snapshot(world)
    _one_legal_representative_at_a_time(s)
    _one_household_at_a_time(s)
    assert_shares_within_the_whole(s)
    assert world.counts()["MEMBER_OF"] == len(s.memberships)


# -- through the loaders' front doors ------------------------------------------------------


def test_admin_import_csvs_carry_the_history(tmp_path: Path) -> None:
    world = generate(WorldSpec(n_subjects=2_000, seed=5, link_history=True))
    counts, _ = write_csvs(world, tmp_path, contact_key=ContactKey.generate(), workers=1)
    assert counts == {k: v for k, v in world.counts().items() if v}
    with (tmp_path / "links-00.csv").open(encoding="utf-8") as f:
        links = {(row[2], row[3]): row for row in csv.reader(f)}
    with (tmp_path / "memberships-00.csv").open(encoding="utf-8") as f:
        members = {row[2]: row for row in csv.reader(f)}
    for rel in SUBJECT_RELS:
        for x in world.links(rel):
            assert links[(rel.value, x["id"])][5] == (
                x["validTo"].isoformat() if x["validTo"] else ""
            )
    ended = [m for m in world.memberships() if m["validTo"] is not None]
    assert ended and all(members[m["id"]][4] == m["validTo"].isoformat() for m in ended)
    assert len(members) == counts["MEMBER_OF"]


def test_seeds_cli_takes_link_history(capsys: pytest.CaptureFixture[str]) -> None:
    rows = []
    for flags in ([], ["--link-history"]):
        assert seeds_main(["generate", "--subjects", "1000", *flags]) == 0
        out = capsys.readouterr().out
        rows.append(int(out.split()[1].replace(",", "")))
    assert rows[1] - rows[0] > 700  # about one ended tie per subject


# -- invariants, time-aware ----------------------------------------------------------------


def _successive(rows: list[LinkRow]) -> None:
    rows.sort(key=lambda r: r["validFrom"])
    for before, after in itertools.pairwise(rows):
        assert before["validTo"] is not None and before["validTo"] <= after["validFrom"]


def _one_legal_representative_at_a_time(s: Snapshot) -> None:
    by_unit: dict[str, list[LinkRow]] = defaultdict(list)
    for row in s.links[Rel.LEGAL_REPRESENTATIVE_OF]:
        by_unit[row["dst"]].append(row)
    units = [r["id"] for k, rows in s.subjects.items() if k is not SubjectKind.PERSON for r in rows]
    assert set(by_unit) == set(units)
    for rows in by_unit.values():
        assert sum(r["validTo"] is None for r in rows) == 1
        _successive(rows)


def _one_household_at_a_time(s: Snapshot) -> None:
    by_person: dict[str, list[LinkRow]] = defaultdict(list)
    by_household: dict[str, Counter[str]] = defaultdict(Counter)
    for row in s.memberships:
        by_person[row["src"]].append(row)
        by_household[row["dst"]][row["role"]] += 1
    assert set(by_person) == {r["id"] for r in s.subjects[SubjectKind.PERSON]}
    for rows in by_person.values():
        assert sum(r["validTo"] is None for r in rows) == 1
        _successive(rows)
        assert rows[-1]["validTo"] is None
    for roles in by_household.values():  # history registers no heads or spouses
        assert roles["HEAD"] == 1 and roles["SPOUSE"] <= 1
