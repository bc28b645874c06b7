"""Small random worlds for the differential test: drawn, loaded into Neo4j, compared.

One generator (`build_world`) draws through a `Chooser`, so the same code serves
hypothesis (`worlds()`, which shrinks) and the benchmark (`random_world(seed)`, which is
reproducible from a seed). Worlds are biased towards the structures the roles care
about: links into a sanctioned unit that start or end around the decision date,
households whose guardian is tied to a sanctioned subject, a sanctioned person leading a
unit, lifts, partner-city entries, and check times on date boundaries.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from hypothesis import strategies as st

from domain.identifiers import SubjectKind, make_resident_id, make_uscc
from domain.vocabulary import (
    KIND_LABEL,
    RELATION_ENDS,
    ROLE_VALUES,
    Label,
    ListKind,
    Rel,
    SystemRel,
)
from graph_model.checks import CheckEngine
from graph_model.driver import Graph
from rules.decision import CheckOutcome
from rules.models import Catalogue
from tests.reference.engine import (
    CITY_TZ,
    AppliedRow,
    Check,
    Household,
    Link,
    Outcome,
    PathStep,
    ReferenceEngine,
    Sanction,
    Subject,
    World,
)

T = TypeVar("T")

FIRST_DAY = dt.date(2019, 1, 1)
LAST_DAY = dt.date(2027, 12, 31)
LAST_CHECK_DAY = dt.date(2028, 12, 31)
JURISDICTIONS = ("wenzhou", "jiaxing", "jinhua", "huzhou")
DISTRICTS = ("330302", "330303", "330324", "330381", "330382")
MAX_LINKS = 25
# A well-formed id no world registers (worlds number their subjects from 1 up).
UNREGISTERED = make_uscc("91", "330302", "MY999999")
MAX_SUBJECTS = 12
MAX_SANCTIONS = 6
MAX_CHECKS = 6
MAX_HOUSEHOLDS = 3
PERSONS = frozenset({SubjectKind.PERSON})
UNITS = frozenset(
    {SubjectKind.ENTERPRISE, SubjectKind.PUBLIC_INSTITUTION, SubjectKind.INDIVIDUAL_BUSINESS}
)
TYPE_CODE = {
    SubjectKind.ENTERPRISE: "91",
    SubjectKind.INDIVIDUAL_BUSINESS: "92",
    SubjectKind.PUBLIC_INSTITUTION: "12",
}
# The kind of sanctioned subject whose structure a role's motif builds on.
SANCTIONED_KINDS: dict[str, frozenset[SubjectKind]] = {
    "LEGAL_REPRESENTATIVE": UNITS,
    "PRINCIPAL_RESPONSIBLE_PERSON": UNITS,
    "ACTUAL_CONTROLLER": UNITS,
    "DIRECTOR_SUPERVISOR_MANAGER": UNITS,
    "OPERATOR": frozenset({SubjectKind.INDIVIDUAL_BUSINESS}),
    "LED_UNIT": PERSONS,
}
ROLE_RELATION: dict[str, Rel] = {
    "LEGAL_REPRESENTATIVE": Rel.LEGAL_REPRESENTATIVE_OF,
    "PRINCIPAL_RESPONSIBLE_PERSON": Rel.EXECUTIVE_OF,
    "ACTUAL_CONTROLLER": Rel.ACTUAL_CONTROLLER_OF,
    "DIRECTOR_SUPERVISOR_MANAGER": Rel.EXECUTIVE_OF,
    "OPERATOR": Rel.OPERATOR_OF,
}
SOURCE = "differential-test"


# ------------------------------------------------------------------------------ choosing


class Chooser(Protocol):
    """The few kinds of choice the generator makes."""

    def integer(self, low: int, high: int) -> int: ...

    def chance(self, percent: int) -> bool: ...

    def choice(self, options: Sequence[T]) -> T: ...


class RandomChooser:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def integer(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def chance(self, percent: int) -> bool:
        return self.rng.randrange(100) < percent

    def choice(self, options: Sequence[T]) -> T:
        return options[self.rng.randrange(len(options))]


class HypothesisChooser:
    """Choices drawn through hypothesis, so failing worlds shrink (towards the low end of
    each range, "yes" and the first option).

    Hypothesis favours the ends of a small range; drawing from a wide one and folding it
    keeps the choices close to the generator's intended odds."""

    SPREAD = 1 << 16

    def __init__(self, draw: st.DrawFn) -> None:
        self.draw = draw

    def integer(self, low: int, high: int) -> int:
        return low + self.draw(st.integers(0, self.SPREAD - 1)) % (high - low + 1)

    def chance(self, percent: int) -> bool:
        return self.integer(0, 99) < percent

    def choice(self, options: Sequence[T]) -> T:
        return options[self.integer(0, len(options) - 1)]


# ------------------------------------------------------------------------------ dates


def clamp(day: dt.date, low: dt.date = FIRST_DAY, high: dt.date = LAST_DAY) -> dt.date:
    return max(low, min(high, day))


def any_day(c: Chooser, low: dt.date = FIRST_DAY, high: dt.date = LAST_DAY) -> dt.date:
    return low + dt.timedelta(days=c.integer(0, (high - low).days))


def near(c: Chooser, day: dt.date) -> dt.date:
    """A day on, just around, or some way off `day`."""
    offset = c.choice((-1, 0, 0, 1, 1, -c.integer(2, 400), c.integer(2, 120)))
    return clamp(day + dt.timedelta(days=offset))


def interval_near(c: Chooser, day: dt.date) -> tuple[dt.date, dt.date | None]:
    """A validity interval that starts or ends (or both) around `day`."""
    start = near(c, day) if c.chance(70) else any_day(c)
    if c.chance(35):
        return start, None
    end = near(c, day)
    if end <= start:
        end = start + dt.timedelta(days=c.choice((1, c.integer(1, 900))))
    return start, end


def interval_around(c: Chooser, day: dt.date) -> tuple[dt.date, dt.date | None]:
    """Mostly an interval holding `day` (often exactly from it or up to it), else one
    that just misses it."""
    if c.chance(25):
        return interval_near(c, day)
    start = day - dt.timedelta(days=c.choice((0, 0, c.integer(1, 700))))
    if c.chance(35):
        return start, None
    return start, day + dt.timedelta(days=c.choice((1, 1, c.integer(2, 700))))


def end_within(start: dt.date, end: dt.date | None) -> tuple[dt.date, dt.date | None]:
    """The interval with its end kept within LAST_DAY (open when that leaves nothing)."""
    if end is not None and end > LAST_DAY:
        end = LAST_DAY if start < LAST_DAY else None
    return start, end


def any_interval(c: Chooser) -> tuple[dt.date, dt.date | None]:
    start = any_day(c)
    if c.chance(40):
        return start, None
    return start, start + dt.timedelta(days=c.choice((1, c.integer(1, 1500))))


def city_instant(day: dt.date, hour: int, minute: int, second: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=CITY_TZ)


def shown(c: Chooser, at: dt.datetime) -> dt.datetime:
    """The same instant, written in the city's offset or in UTC."""
    return at.astimezone(dt.UTC) if c.chance(50) else at.astimezone(CITY_TZ)


# ------------------------------------------------------------------------------ worlds


@dataclass(frozen=True)
class Motif:
    """A structure built so that `role` of `sanction` may reach `candidate`."""

    sanction: Sanction
    role: str
    candidate: str
    day: dt.date | None = None  # a check day the structure was built around


class WorldBuilder:
    """Accumulates one world's parts; every link it adds fits RELATION_ENDS."""

    def __init__(self, c: Chooser, catalogue: Catalogue) -> None:
        self.c = c
        self.catalogue = catalogue
        self.subjects: list[Subject] = []
        self.households: list[Household] = []
        self.links: list[Link] = []
        self.sanctions: list[Sanction] = []
        self.motifs: list[Motif] = []
        self.checks: list[Check] = []
        self._ends: dict[tuple[str, Rel, str, dt.date], dt.date | None] = {}

    # -- subjects and households ----------------------------------------------------------

    def subject_id(self, kind: SubjectKind, serial: int) -> str:
        district = self.c.choice(DISTRICTS)
        if kind is SubjectKind.PERSON:
            birth = dt.date(1950, 1, 1) + dt.timedelta(days=self.c.integer(0, 20000))
            return make_resident_id(district, birth, serial)
        return make_uscc(TYPE_CODE[kind], district, f"MA{serial:06d}")

    def add_subject(self, kind: SubjectKind) -> Subject:
        subject = Subject(self.subject_id(kind, len(self.subjects) + 1), kind)
        self.subjects.append(subject)
        return subject

    def add_subjects(self) -> None:
        """3 or more subjects of mixed kinds: at least one person and one unit."""
        units = (SubjectKind.ENTERPRISE, SubjectKind.INDIVIDUAL_BUSINESS)
        self.add_subject(SubjectKind.PERSON)
        self.add_subject(self.c.choice((*units, SubjectKind.PUBLIC_INSTITUTION)))
        mix = (SubjectKind.PERSON, SubjectKind.PERSON, *units, *SubjectKind)
        for _ in range(self.c.integer(1, MAX_SUBJECTS - 4)):
            self.add_subject(self.c.choice(mix))

    def of_kinds(self, kinds: frozenset[SubjectKind]) -> list[Subject]:
        return [s for s in self.subjects if s.kind in kinds]

    def one_of_kinds(self, kinds: frozenset[SubjectKind], other_than: str = "") -> Subject:
        """An existing subject of `kinds` (a new one while there is room or none fits)."""
        found = [s for s in self.of_kinds(kinds) if s.id != other_than]
        if found and (len(self.subjects) >= MAX_SUBJECTS or self.c.chance(75)):
            return self.c.choice(found)
        assert len(self.subjects) < MAX_SUBJECTS, f"no room for a subject of {sorted(kinds)}"
        return self.add_subject(self.c.choice(sorted(kinds)))

    def household(self) -> Household:
        if self.households and (len(self.households) >= MAX_HOUSEHOLDS or self.c.chance(60)):
            return self.c.choice(self.households)
        household = Household(f"HH{len(self.households) + 1:08d}")
        self.households.append(household)
        return household

    # -- links --------------------------------------------------------------------------

    def add_link(
        self,
        source: str,
        relation: Rel,
        target: str,
        interval: tuple[dt.date, dt.date | None],
        role: str | None = None,
    ) -> Link | None:
        if source == target or len(self.links) >= MAX_LINKS:
            return None
        valid_from, valid_to = end_within(*interval)
        if relation in ROLE_VALUES and role is None:
            role = self.c.choice(sorted(ROLE_VALUES[relation]))
        ratio = self.c.choice((0.1, 0.25, 0.5, 1.0)) if relation is Rel.SHAREHOLDER_OF else None
        # Two links alike up to validTo would make "the canonical path" ambiguous in its
        # last field; such twins share their validTo (they may still differ in role).
        valid_to = self._ends.setdefault((source, relation, target, valid_from), valid_to)
        link = Link(
            f"L{len(self.links) + 1:03d}",
            source,
            target,
            relation,
            valid_from,
            valid_to,
            role,
            ratio,
        )
        self.links.append(link)
        return link

    def add_random_link(self) -> None:
        relation = self.c.choice(list(Rel))
        sources, targets = RELATION_ENDS[relation]
        froms = self.of_kinds(sources)
        if targets is None:
            tos = [h.id for h in self.households]
        else:
            tos = [s.id for s in self.of_kinds(targets)]
        if froms and tos:
            source = self.c.choice(froms).id
            self.add_link(source, relation, self.c.choice(tos), any_interval(self.c))

    # -- sanctions ----------------------------------------------------------------------

    def add_sanction(self) -> Sanction:
        c = self.c
        list_type, role = self.list_type_and_role()
        kinds = SANCTIONED_KINDS.get(role, frozenset(SubjectKind))
        if not self.of_kinds(kinds) and len(self.subjects) >= MAX_SUBJECTS:
            role, kinds = "SELF", frozenset(SubjectKind)  # no room for the kind it needs
        listed = [s for s in self.subjects if s.kind in kinds and s.id in self.sanctioned()]
        subject = c.choice(listed) if listed and c.chance(30) else self.one_of_kinds(kinds)
        return self.impose(list_type, role, subject)

    def add_red_entry(self) -> None:
        """A red-list entry for an already listed subject, so incentives meet penalties."""
        red = [lt.id for lt in self.catalogue.list_types.values() if lt.kind is ListKind.RED]
        listed = [s for s in self.subjects if s.id in self.sanctioned()]
        if red and listed:
            self.impose(self.c.choice(red), "SELF", self.c.choice(listed))
        else:
            self.add_sanction()

    def impose(self, list_type: str, role: str, subject: Subject) -> Sanction:
        """A sanction against `subject` (decided on or before it starts; sometimes open,
        lifted, from a partner city, under objection or naming persons), with the motif
        `role` looks for built around it."""
        c = self.c
        decided_on = any_day(c, high=dt.date(2027, 6, 30))
        valid_from = clamp(decided_on + dt.timedelta(days=c.choice((0, 0, 1, c.integer(0, 400)))))
        valid_to = None
        if c.chance(65):
            days = c.integer(1, 3) if c.chance(15) else c.integer(30, 1500)
            valid_from, valid_to = end_within(valid_from, valid_from + dt.timedelta(days=days))
        lifted_at = None
        if c.chance(25):
            lift_day = valid_from + dt.timedelta(days=c.integer(0, 600))
            lift = city_instant(clamp(lift_day, high=LAST_CHECK_DAY), 0, 0)
            if c.chance(50):
                lift += dt.timedelta(seconds=c.integer(0, 86399))
            lifted_at = lift.astimezone(dt.UTC)
        jurisdiction = "wenzhou" if c.chance(70) else c.choice(JURISDICTIONS[1:])
        responsible: tuple[str, ...] = ()
        if c.chance(80 if role == "DIRECTLY_RESPONSIBLE_PERSON" else 15):
            named = {self.one_of_kinds(PERSONS).id for _ in range(c.integer(1, 2))}
            responsible = tuple(sorted(named))
        sanction = Sanction(
            id=f"S{len(self.sanctions) + 1:03d}",
            list_type=list_type,
            subject_id=subject.id,
            decided_on=decided_on,
            valid_from=valid_from,
            valid_to=valid_to,
            jurisdiction=jurisdiction,
            recognized=self.catalogue.is_recognized(jurisdiction, list_type),
            lifted_at=lifted_at,
            responsible_person_ids=responsible,
            status="UNDER_OBJECTION" if c.chance(15) else "ACTIVE",
        )
        self.sanctions.append(sanction)
        self.add_motif(sanction, role)
        return sanction

    def sanctioned(self) -> set[str]:
        return {s.subject_id for s in self.sanctions}

    def list_type_and_role(self) -> tuple[str, str]:
        """Mostly a role first (each as likely), then a list type with a measure of it."""
        measures = list(self.catalogue.measures.values())
        if self.c.chance(80):
            role = self.c.choice(sorted({r for m in measures for r in m.roles}))
            return self.c.choice(sorted({m.list_type for m in measures if role in m.roles})), role
        list_type = self.c.choice(list(self.catalogue.list_types))
        roles = self.roles_of(list_type)
        return list_type, self.c.choice(roles) if roles else "SELF"

    def roles_of(self, list_type: str) -> list[str]:
        """The roles the list type's measures use (the catalogue's data, not its walks)."""
        roles = {
            r for m in self.catalogue.measures.values() if m.list_type == list_type for r in m.roles
        }
        return sorted(roles)

    def window_day(self, sanction: Sanction) -> dt.date:
        """A day inside (or at an edge of) the sanction's validity."""
        c = self.c
        last = sanction.valid_to or sanction.valid_from + dt.timedelta(days=c.integer(1, 900))
        if c.chance(40):
            return c.choice((sanction.valid_from, last - dt.timedelta(days=1), last))
        span = (last - sanction.valid_from).days
        return sanction.valid_from + dt.timedelta(days=c.integer(0, span))

    # -- motifs: the structures each role looks for -------------------------------------

    def add_motif(self, sanction: Sanction, role: str) -> None:
        build = {
            "LEGAL_REPRESENTATIVE": self.motif_link_into,
            "PRINCIPAL_RESPONSIBLE_PERSON": self.motif_link_into,
            "ACTUAL_CONTROLLER": self.motif_link_into,
            "DIRECTOR_SUPERVISOR_MANAGER": self.motif_link_into,
            "OPERATOR": self.motif_link_into,
            "LED_UNIT": self.motif_led_unit,
            "HOUSEHOLD_CHILD": self.motif_household_child,
        }.get(role)
        candidates = [sanction.subject_id]
        if role == "DIRECTLY_RESPONSIBLE_PERSON":
            candidates = list(sanction.responsible_person_ids) or candidates
        day = None
        if build is not None:
            built = build(sanction, role)
            if built is not None:
                candidates, day = [built[0]], built[1]
        self.motifs.append(Motif(sanction, role, self.c.choice(candidates), day))

    def motif_link_into(self, sanction: Sanction, role: str) -> tuple[str, dt.date | None] | None:
        """Someone tied to the sanctioned unit by the role's relation, the link starting or
        ending around the decision date; returns who."""
        relation = ROLE_RELATION[role]
        if role == "PRINCIPAL_RESPONSIBLE_PERSON" or self.c.chance(30):
            role_value = self.c.choice(("CHAIR", "GENERAL_MANAGER", "PRINCIPAL"))
        else:
            role_value = None
        source = self.one_of_kinds(RELATION_ENDS[relation][0], other_than=sanction.subject_id)
        interval = interval_near(self.c, sanction.decided_on)
        if relation is not Rel.EXECUTIVE_OF:
            role_value = None
        link = self.add_link(source.id, relation, sanction.subject_id, interval, role_value)
        return None if link is None else (link.source, None)

    def motif_led_unit(self, sanction: Sanction, role: str) -> tuple[str, dt.date] | None:
        """The sanctioned person is legal representative or controller of a unit, around a
        day the sanction applies."""
        relation = self.c.choice((Rel.LEGAL_REPRESENTATIVE_OF, Rel.ACTUAL_CONTROLLER_OF))
        unit = self.one_of_kinds(UNITS)
        day = self.window_day(sanction)
        link = self.add_link(sanction.subject_id, relation, unit.id, interval_around(self.c, day))
        return None if link is None else (link.target, day)

    def motif_household_child(self, sanction: Sanction, role: str) -> tuple[str, dt.date] | None:
        """A guardian (the sanctioned person, or someone tied to the sanctioned unit as
        legal representative, principal or controller) and a child in one household."""
        c = self.c
        guardian = None
        if self.is_person(sanction.subject_id):
            guardian = sanction.subject_id
        else:
            via = c.choice(
                ("LEGAL_REPRESENTATIVE", "PRINCIPAL_RESPONSIBLE_PERSON", "ACTUAL_CONTROLLER")
            )
            tied = self.motif_link_into(sanction, via)
            guardian = None if tied is None else tied[0]
        if guardian is None or not self.is_person(guardian) or c.chance(10):
            guardian = self.one_of_kinds(PERSONS).id
        household = self.household()
        day = self.window_day(sanction)
        guardian_role = c.choice(("HEAD", "SPOUSE", "PARENT", "HEAD", "OTHER", "CHILD"))
        self.add_link(guardian, Rel.MEMBER_OF, household.id, interval_around(c, day), guardian_role)
        child = self.one_of_kinds(PERSONS).id if c.chance(90) else guardian
        child_role = "CHILD" if c.chance(85) else c.choice(("OTHER", "HEAD"))
        link = self.add_link(
            child, Rel.MEMBER_OF, household.id, interval_around(c, day), child_role
        )
        return None if link is None else (link.source, day)

    def is_person(self, subject_id: str) -> bool:
        return any(s.id == subject_id and s.kind is SubjectKind.PERSON for s in self.subjects)

    # -- checks -------------------------------------------------------------------------

    def related(self, sanction: Sanction) -> list[str]:
        """Subjects up to two stored links away from the sanctioned subject (a household
        counts as a hop), and those the sanction names."""
        reach = {sanction.subject_id, *sanction.responsible_person_ids}
        for _ in range(3):
            for ln in self.links:
                if ln.source in reach or ln.target in reach:
                    reach |= {ln.source, ln.target}
        return sorted(reach - {h.id for h in self.households})

    def boundary_days(self, sanction: Sanction) -> list[dt.date]:
        related = set(self.related(sanction))
        links = [ln for ln in self.links if ln.source in related]
        days = [ln.valid_from for ln in links]
        days += [ln.valid_to for ln in links if ln.valid_to is not None]
        days += [sanction.decided_on, sanction.valid_from]
        return days + ([sanction.valid_to] if sanction.valid_to is not None else [])

    def check_time(self, motif: Motif | None) -> dt.datetime:
        c = self.c
        focus = None if motif is None else motif.sanction
        if focus is not None and focus.lifted_at is not None and c.chance(25):
            tick = dt.timedelta(seconds=1)
            return shown(c, focus.lifted_at + c.choice((-tick, dt.timedelta(0), tick)))
        if motif is not None and motif.day is not None and c.chance(60):
            day = motif.day
        elif focus is not None and c.chance(75):
            day = self.window_day(focus)
        elif focus is not None and c.chance(70):
            day = c.choice(self.boundary_days(focus)) - dt.timedelta(days=c.choice((0, 0, 1)))
        else:
            day = any_day(c, high=LAST_CHECK_DAY)
        day = clamp(day, high=LAST_CHECK_DAY)
        hour, minute, second = c.choice(((0, 0, 0), (23, 59, 59), (12, 0, 0), (7, 59, 59)))
        return shown(c, city_instant(day, hour, minute, second))

    def check_area(self, motif: Motif | None) -> str:
        if motif is not None and self.c.chance(90):
            areas = sorted(
                {
                    m.area
                    for m in self.catalogue.measures.values()
                    if m.list_type == motif.sanction.list_type and motif.role in m.roles
                }
            )
            return self.c.choice(areas)
        return self.c.choice(list(self.catalogue.areas))

    def check_subject(self, motif: Motif | None) -> str:
        c = self.c
        if c.chance(7):
            kind = c.choice((SubjectKind.PERSON, SubjectKind.ENTERPRISE))
            return self.subject_id(kind, 900 + c.integer(0, 99))  # well-formed, unregistered
        if motif is None or c.chance(10):
            return c.choice(self.subjects).id
        if c.chance(70):
            return motif.candidate
        return c.choice(self.related(motif.sanction))

    def add_checks(self) -> None:
        """1–6 checks, in batches sharing an area and a time (as batchCheck asks them)."""
        wanted = self.c.integer(1, MAX_CHECKS)
        while len(self.checks) < wanted:
            motif = self.c.choice(self.motifs) if self.motifs and self.c.chance(90) else None
            area, at = self.check_area(motif), self.check_time(motif)
            for _ in range(min(self.c.integer(1, 3), wanted - len(self.checks))):
                self.checks.append(Check(self.check_subject(motif), area, at))

    def world(self) -> World:
        return World(
            tuple(self.subjects),
            tuple(self.households),
            tuple(self.links),
            tuple(self.sanctions),
            tuple(self.checks),
        )


def build_world(c: Chooser, catalogue: Catalogue) -> World:
    """One small world: 3–12 subjects, 0–3 households, 0–25 links, 0–6 sanctions and
    1–6 checks, with the structures the roles look for drawn often."""
    b = WorldBuilder(c, catalogue)
    b.add_subjects()
    wanted = c.integer(0, MAX_SANCTIONS)
    while len(b.sanctions) < wanted:
        if b.sanctions and c.chance(15):
            b.add_red_entry()
        else:
            b.add_sanction()
    for _ in range(c.integer(0, 3) - len(b.households)):
        b.household()
    for _ in range(c.integer(0, MAX_LINKS)):
        b.add_random_link()
    b.add_checks()
    return b.world()


def worlds(catalogue: Catalogue) -> st.SearchStrategy[World]:
    """A hypothesis strategy of small random worlds."""

    @st.composite
    def draw_world(draw: st.DrawFn) -> World:
        return build_world(HypothesisChooser(draw), catalogue)

    return draw_world()


def random_world(seed: int, catalogue: Catalogue) -> World:
    """The world of `seed`, the same on every run."""
    return build_world(RandomChooser(random.Random(seed)), catalogue)


# ------------------------------------------------------------------------------ loading

# Everything but the schema record, the departments and the ballast.
WIPE = (
    f"MATCH (n) WHERE NOT n:{Label.MIGRATION.value} AND NOT n:{Label.DEPARTMENT.value} "
    "AND n.ballast IS NULL DETACH DELETE n"
)

LOAD_SUBJECTS = (
    f"UNWIND $subjects AS row WITH row WHERE row IS NOT NULL CREATE (s:{Label.SUBJECT.value} "
    "{id: row.id, kind: row.kind, name: row.name, district: row.district, "
    "status: 'ACTIVE', createdAt: datetime(), updatedAt: datetime()}) "
    + " ".join(
        f"FOREACH (_ IN CASE WHEN row.kind = '{kind.value}' THEN [1] ELSE [] END | "
        f"SET s:{label.value})"
        for kind, label in KIND_LABEL.items()
    )
)
LOAD_HOUSEHOLDS = (
    f"UNWIND $households AS row WITH row WHERE row IS NOT NULL CREATE (:{Label.HOUSEHOLD.value} "
    "{id: row.id, district: row.district, createdAt: datetime()})"
)
LOAD_LINKS = (
    f"UNWIND $links AS row WITH row WHERE row IS NOT NULL MATCH (a:{Label.SUBJECT.value} {{id: row.from}}) "
    f"OPTIONAL MATCH (subject:{Label.SUBJECT.value} {{id: row.to}}) "
    f"OPTIONAL MATCH (household:{Label.HOUSEHOLD.value} {{id: row.to}}) "
    "WITH row, a, coalesce(subject, household) AS b "
    + " ".join(
        f"FOREACH (_ IN CASE WHEN row.relation = '{rel.value}' THEN [1] ELSE [] END | "
        f"CREATE (a)-[:{rel.value} {{id: row.id, validFrom: row.validFrom, "
        "validTo: row.validTo, source: row.source, ratio: row.ratio, role: row.role, "
        "createdAt: datetime()}]->(b))"
        for rel in Rel
    )
)
LOAD_SANCTIONS = (
    f"UNWIND $sanctions AS row WITH row WHERE row IS NOT NULL MATCH (d:{Label.DEPARTMENT.value} {{id: row.props.issuerId}}) "
    f"MATCH (subject:{Label.SUBJECT.value} {{id: row.props.subjectId}}) "
    f"CREATE (d)-[:{SystemRel.ISSUED.value}]->(s:{Label.SANCTION.value})"
    f"-[:{SystemRel.AGAINST.value}]->(subject) "
    "SET s = row.props, s.createdAt = datetime() "
    "WITH s, row "
    f"CALL (s, row) {{ UNWIND row.responsible AS pid MATCH (p:{Label.PERSON.value} {{id: pid}}) "
    f"CREATE (s)-[:{SystemRel.RESPONSIBLE_PERSON.value}]->(p) }}"
)


# The whole world in one statement (one round trip): wipe, then each batch in turn; each
# unit subquery sees what the ones before it wrote.
LOAD_WORLD = " ".join(
    f"CALL () {{ {part} }}"
    for part in (WIPE, LOAD_SUBJECTS, LOAD_HOUSEHOLDS, LOAD_LINKS, LOAD_SANCTIONS)
)


# Neo4j caches a plan per bucket of each list parameter's size (0, 1, 2-10, 11-100, …), and
# planning LOAD_WORLD takes a second or more: padding every list to the same bucket keeps
# one plan for all worlds.
LOAD_PAD = 32

# Ballast: a few thousand nodes and links of every kind, never connected to a world. A
# world is tiny, so wiping one and loading the next would swing the graph's statistics
# (label counts, and counts per relationship type and end label) by large factors and
# make Neo4j re-plan every query (the check queries take seconds to plan); next to the
# ballast a world moves them by a few percent. Ballast ids are not well-formed ids, so no
# world and no check ever names them.
BALLAST_SIZE = 100
BALLAST_PREFIX = "BALLAST-"
LOAD_BALLAST = " ".join(
    f"CALL () {{ {part} }}" for part in (LOAD_SUBJECTS, LOAD_HOUSEHOLDS, LOAD_LINKS, LOAD_SANCTIONS)
)
MARK_BALLAST = (
    f"MATCH (n) WHERE NOT n:{Label.MIGRATION.value} AND NOT n:{Label.DEPARTMENT.value} "
    "SET n.ballast = true"
)
BALLAST_PRESENT = (
    f"MATCH (n:{Label.SUBJECT.value} {{id: $id}}) WHERE n.ballast RETURN count(n) AS n"
)


def ballast_world(catalogue: Catalogue, size: int = BALLAST_SIZE) -> World:
    """`size` subjects of each kind and a household per index, links of every relation
    between every pair of kinds it may join, and sanctions of every list type against
    every kind (some lifted, some naming persons)."""
    kinds = list(SubjectKind)
    subjects = [Subject(f"{BALLAST_PREFIX}{k.value}-{i}", k) for i in range(size) for k in kinds]
    households = [Household(f"{BALLAST_PREFIX}H-{i}") for i in range(size)]
    links: list[Link] = []
    start = dt.date(2019, 1, 1)
    for i in range(size):
        for relation in Rel:
            sources, targets = RELATION_ENDS[relation]
            for source in sorted(sources):
                ends = (
                    [households[i].id]
                    if targets is None
                    else [f"{BALLAST_PREFIX}{k.value}-{(i + 1) % size}" for k in sorted(targets)]
                )
                for target in ends:
                    roles = sorted(ROLE_VALUES.get(relation, {None}), key=str)
                    links.append(
                        Link(
                            f"{BALLAST_PREFIX}L{len(links)}",
                            f"{BALLAST_PREFIX}{source.value}-{i}",
                            target,
                            relation,
                            start,
                            None if i % 2 else dt.date(2026, 1, 1),
                            roles[i % len(roles)],
                            0.5 if relation is Rel.SHAREHOLDER_OF else None,
                        )
                    )
    list_types = list(catalogue.list_types)
    sanctions = [
        Sanction(
            id=f"{BALLAST_PREFIX}S{n}",
            list_type=list_types[n % len(list_types)],
            subject_id=subject.id,
            decided_on=start,
            valid_from=start,
            valid_to=None,
            jurisdiction="wenzhou",
            recognized=catalogue.is_recognized("wenzhou", list_types[n % len(list_types)]),
            lifted_at=None if n % 3 else dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
            responsible_person_ids=(f"{BALLAST_PREFIX}PERSON-{n % size}",) if n % 2 else (),
        )
        for n, subject in enumerate(subjects)
    ]
    return World(tuple(subjects), tuple(households), tuple(links), tuple(sanctions))


def load_params(
    world: World, catalogue: Catalogue, pad: int = 0
) -> dict[str, list[dict[str, Any] | None]]:
    """The parameters of LOAD_WORLD for `world`, each list padded with nulls to at least
    `pad` rows (the queries skip them)."""
    subjects = [
        {"id": s.id, "kind": s.kind.value, "name": f"主体{n}", "district": s.id[2:8]}
        for n, s in enumerate(world.subjects)
    ]
    households = [{"id": h.id, "district": "330302"} for h in world.households]
    links = [{**ln.as_row(), "source": SOURCE} for ln in world.links]
    sanctions = [
        {"props": sanction_props(s, catalogue), "responsible": list(s.responsible_person_ids)}
        for s in world.sanctions
    ]
    batches: dict[str, list[dict[str, Any]]] = {
        "subjects": subjects,
        "households": households,
        "links": links,
        "sanctions": sanctions,
    }
    return {name: [*rows, *[None] * (pad - len(rows))] for name, rows in batches.items()}


def sanction_props(s: Sanction, catalogue: Catalogue) -> dict[str, Any]:
    """A Sanction node's properties as CONTRIBUTING.md lists them."""
    list_type = catalogue.list_types[s.list_type]
    return {
        "id": s.id,
        "listType": s.list_type,
        "kind": list_type.kind.value,
        "decidedOn": s.decided_on,
        "validFrom": s.valid_from,
        "validTo": s.valid_to,
        "status": s.status,
        "liftKind": None if s.lifted_at is None else "REPAIRED",
        "liftedAt": s.lifted_at,
        "jurisdiction": s.jurisdiction,
        "recognized": s.recognized,
        "documentNo": f"（2024）浙03执{s.id}号",
        "reason": "differential test",
        "issuerId": list_type.issuers[0],
        "subjectId": s.subject_id,
    }


async def load_ballast(graph: Graph, catalogue: Catalogue) -> None:
    """Add the ballast (`ballast_world`) unless it is there already."""
    ballast = ballast_world(catalogue)
    present = await graph.read(
        BALLAST_PRESENT, {"id": ballast.subjects[0].id}, name="differential.ballastPresent"
    )
    if present[0]["n"]:
        return
    await graph.write(WIPE, name="differential.wipe")
    await graph.write(
        LOAD_BALLAST, load_params(ballast, catalogue), name="differential.loadBallast"
    )
    await graph.write(MARK_BALLAST, name="differential.markBallast")


async def load_world(graph: Graph, world: World, catalogue: Catalogue) -> None:
    """Replace the graph's subjects, households, links and sanctions with `world`."""
    params = load_params(world, catalogue, pad=LOAD_PAD)
    await graph.write(LOAD_WORLD, params, name="differential.loadWorld")


# ------------------------------------------------------------------------------ comparing


def _date(value: Any) -> dt.date | None:
    if value is None:
        return None
    native = value.to_native() if hasattr(value, "to_native") else value
    if not isinstance(native, dt.date):
        raise TypeError(f"a date expected, got {value!r}")
    return native


def normalise(outcome: CheckOutcome) -> Outcome:
    """The production answer, reduced to what the reference answers."""
    rows = []
    for applied in outcome.measures:
        path = []
        for step in applied.path:
            valid_from = _date(step["validFrom"])
            assert valid_from is not None, step
            path.append(
                PathStep(
                    step["from"], step["relation"], step["to"], valid_from, _date(step["validTo"])
                )
            )
        rows.append(
            AppliedRow(
                applied.measure.id,
                applied.role,
                applied.sanction["id"],
                tuple(path),
                applied.suppressed,
            )
        )
    return Outcome(outcome.subject_id, outcome.subject_known, outcome.decision, frozenset(rows))


async def production_outcomes(graph: Graph, engine: CheckEngine, world: World) -> list[Outcome]:
    """Every check of `world` through the production engine, batched by (area, at)."""
    groups: dict[tuple[str, dt.datetime], list[int]] = defaultdict(list)
    for n, check in enumerate(world.checks):
        groups[(check.area, check.at)].append(n)
    results: dict[int, Outcome] = {}
    for (area, at), indices in groups.items():
        ids = [world.checks[n].subject_id for n in indices]
        # Every batch also asks about a well-formed id no world registers: it must come
        # back CLEAR and unknown, and it keeps every batch in one size bucket (2-10) of
        # Neo4j's plan cache, so each area's query is planned once, not twice.
        outcomes = await engine.check_many(graph, [*ids, UNREGISTERED], area, at)
        probe = normalise(outcomes.pop())
        if probe != Outcome(UNREGISTERED, False, "CLEAR"):
            raise AssertionError(f"an unregistered id in {area} at {at}: {probe.describe()}")
        for n, outcome in zip(indices, outcomes, strict=True):
            results[n] = normalise(outcome)
    return [results[n] for n in range(len(world.checks))]


def reference_outcomes(catalogue: Catalogue, world: World) -> list[Outcome]:
    engine = ReferenceEngine(catalogue, world)
    return [engine.check(c.subject_id, c.area, c.at) for c in world.checks]


@dataclass(frozen=True)
class Mismatch:
    check: Check
    expected: Outcome
    actual: Outcome

    def describe(self) -> str:
        missing = self.expected.measures - self.actual.measures
        extra = self.actual.measures - self.expected.measures
        lines = [
            f"check {self.check.subject_id} in {self.check.area} at {self.check.at.isoformat()}",
            "reference:  " + self.expected.describe(),
            "production: " + self.actual.describe(),
        ]
        lines += [f"  only in reference:  {row}" for row in sorted(missing, key=repr)]
        lines += [f"  only in production: {row}" for row in sorted(extra, key=repr)]
        return "\n".join(lines)


async def differences(
    graph: Graph, engine: CheckEngine, catalogue: Catalogue, world: World
) -> list[Mismatch]:
    """Load `world`, run its checks through both engines, return where they differ."""
    await load_world(graph, world, catalogue)
    actual = await production_outcomes(graph, engine, world)
    expected = reference_outcomes(catalogue, world)
    return [
        Mismatch(check, want, got)
        for check, want, got in zip(world.checks, expected, actual, strict=True)
        if want != got
    ]
