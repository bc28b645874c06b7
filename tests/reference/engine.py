"""The joint sanction check of DESIGN.md §3, written again in pure Python over networkx.

Nothing here is derived from the production Cypher or from the catalogue's role step
definitions: the role table of DESIGN.md §3 is hard-coded below as one small graph walk
per role. The catalogue is used only for what is data there: measures (list type, area,
effect, roles) and which jurisdictions recognise which list types.

A world is held in memory (`World`); `ReferenceEngine(catalogue, world).check(...)`
answers what a check on it must return.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple

import networkx as nx

from domain.identifiers import SubjectKind
from domain.vocabulary import Effect, Rel
from rules.models import Catalogue, Measure

# CONTRIBUTING.md: "Local dates are taken in Asia/Shanghai (+08:00): that is the city's day."
CITY_TZ = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")

UNIT_KINDS = frozenset(
    {SubjectKind.ENTERPRISE, SubjectKind.PUBLIC_INSTITUTION, SubjectKind.INDIVIDUAL_BUSINESS}
)
# DESIGN.md §3: PRINCIPAL_RESPONSIBLE_PERSON reaches "persons EXECUTIVE_OF it as CHAIR,
# GENERAL_MANAGER or PRINCIPAL".
PRINCIPAL_EXECUTIVE_ROLES = frozenset({"CHAIR", "GENERAL_MANAGER", "PRINCIPAL"})
# DESIGN.md §3: HOUSEHOLD_CHILD reaches "persons registered as CHILD in a household where
# the sanctioned person [...] is registered as HEAD, SPOUSE or PARENT".
GUARDIAN_HOUSEHOLD_ROLES = frozenset({"HEAD", "SPOUSE", "PARENT"})
CHILD_HOUSEHOLD_ROLE = "CHILD"

# DESIGN.md §3: "Decision = the strongest punitive effect found (PROHIBITED, RESTRICTED,
# STRICT_REVIEW, ALERT); else INCENTIVE if a red-list measure applies; else CLEAR."
DECISION_OF_EFFECT: dict[Effect, str] = {
    Effect.PROHIBIT: "PROHIBITED",
    Effect.RESTRICT: "RESTRICTED",
    Effect.STRICT_REVIEW: "STRICT_REVIEW",
    Effect.ALERT: "ALERT",
}
CLEAR = "CLEAR"
INCENTIVE = "INCENTIVE"


def city_day(at: dt.datetime) -> dt.date:
    """The city's day of an instant (an aware datetime)."""
    if at.tzinfo is None:
        raise ValueError(f"check time {at} has no time zone")
    return at.astimezone(CITY_TZ).date()


# ------------------------------------------------------------------------------ world


@dataclass(frozen=True)
class Subject:
    id: str
    kind: SubjectKind

    @property
    def is_unit(self) -> bool:
        return self.kind in UNIT_KINDS


@dataclass(frozen=True)
class Household:
    id: str


@dataclass(frozen=True)
class Link:
    """A stored link `(from)-[relation {role, ratio, validFrom, validTo}]->(to)`."""

    id: str
    source: str
    target: str
    relation: Rel
    valid_from: dt.date
    valid_to: dt.date | None = None
    role: str | None = None
    ratio: float | None = None

    def valid_on(self, day: dt.date) -> bool:
        """CONTRIBUTING.md: "a link is valid on day d when validFrom <= d AND (validTo IS
        NULL OR d < validTo)"."""
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)

    def as_row(self) -> dict[str, Any]:
        """The link's properties and ends, under the graph's names."""
        return {
            "id": self.id,
            "from": self.source,
            "to": self.target,
            "relation": self.relation.value,
            "role": self.role,
            "ratio": self.ratio,
            "validFrom": self.valid_from,
            "validTo": self.valid_to,
        }


@dataclass(frozen=True)
class Sanction:
    id: str
    list_type: str
    subject_id: str
    decided_on: dt.date
    valid_from: dt.date
    valid_to: dt.date | None
    jurisdiction: str
    recognized: bool
    lifted_at: dt.datetime | None = None
    responsible_person_ids: tuple[str, ...] = ()
    status: str = "ACTIVE"

    def applies_at(self, at: dt.datetime) -> bool:
        """DESIGN.md §3: "A sanction applies at `at` when it is ACTIVE or UNDER_OBJECTION,
        validFrom ≤ at < validTo (open when null), and it is recognised in this
        jurisdiction. Lifting [...] takes effect at a timestamp: checks about later times
        no longer see it, checks about earlier times still do." Dates compare with the
        city's day of `at`; the lift timestamp with `at` itself."""
        day = city_day(at)
        return (
            self.recognized
            and self.status in ("ACTIVE", "UNDER_OBJECTION")
            and (self.lifted_at is None or at < self.lifted_at)
            and self.valid_from <= day
            and (self.valid_to is None or day < self.valid_to)
        )


@dataclass(frozen=True)
class Check:
    subject_id: str
    area: str
    at: dt.datetime


@dataclass(frozen=True)
class World:
    subjects: tuple[Subject, ...] = ()
    households: tuple[Household, ...] = ()
    links: tuple[Link, ...] = ()
    sanctions: tuple[Sanction, ...] = ()
    checks: tuple[Check, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """A plain-JSON dump (for repro reports)."""

        def iso(value: dt.date | dt.datetime | None) -> str | None:
            return None if value is None else value.isoformat()

        return {
            "subjects": [{"id": s.id, "kind": s.kind.value} for s in self.subjects],
            "households": [h.id for h in self.households],
            "links": [
                {**ln.as_row(), "validFrom": iso(ln.valid_from), "validTo": iso(ln.valid_to)}
                for ln in self.links
            ],
            "sanctions": [
                {
                    "id": s.id,
                    "listType": s.list_type,
                    "subjectId": s.subject_id,
                    "decidedOn": iso(s.decided_on),
                    "validFrom": iso(s.valid_from),
                    "validTo": iso(s.valid_to),
                    "liftedAt": iso(s.lifted_at),
                    "jurisdiction": s.jurisdiction,
                    "recognized": s.recognized,
                    "status": s.status,
                    "responsiblePersonIds": list(s.responsible_person_ids),
                }
                for s in self.sanctions
            ],
            "checks": [
                {"subjectId": c.subject_id, "area": c.area, "at": c.at.isoformat()}
                for c in self.checks
            ],
        }


# ------------------------------------------------------------------------------ answers


@dataclass(frozen=True, order=True)
class PathStep:
    """One stored link of a path, in its stored direction (not the walk's)."""

    source: str
    relation: str
    target: str
    valid_from: dt.date
    valid_to: dt.date | None

    @classmethod
    def of(cls, link: Link) -> PathStep:
        return cls(link.source, link.relation.value, link.target, link.valid_from, link.valid_to)

    def key(self) -> tuple[str, str, str, str]:
        return (self.source, self.relation, self.target, self.valid_from.isoformat())


Path = tuple[PathStep, ...]


def path_key(path: Path) -> tuple[int, tuple[tuple[str, str, str, str], ...]]:
    """The canonical order of paths: shortest first, then by their steps' keys."""
    return (len(path), tuple(step.key() for step in path))


class AppliedRow(NamedTuple):
    """One applied measure, reduced to what two engines must agree on."""

    measure_id: str
    role: str
    sanction_id: str
    path: Path
    suppressed: bool


@dataclass(frozen=True)
class Outcome:
    subject_id: str
    subject_known: bool
    decision: str
    measures: frozenset[AppliedRow] = field(default_factory=frozenset)

    def describe(self) -> str:
        rows = sorted(self.measures, key=lambda r: (r.measure_id, r.role, r.sanction_id))
        lines = [f"{self.subject_id} known={self.subject_known} decision={self.decision}"]
        for r in rows:
            steps = ", ".join(
                f"{s.source}-[{s.relation} {s.valid_from}..{s.valid_to}]->{s.target}"
                for s in r.path
            )
            lines.append(
                f"  {r.measure_id} {r.role} {r.sanction_id}"
                f"{' suppressed' if r.suppressed else ''} path=[{steps}]"
            )
        return "\n".join(lines)


# ------------------------------------------------------------------------------ engine

Trail = tuple[Link, ...]  # stored links, from the reached subject to the sanctioned one
Reach = tuple[str, Trail]  # (reached subject id, its trail to the sanctioned subject)
RoleWalk = Callable[["ReferenceEngine", Sanction, dt.date], Iterator[Reach]]


class ReferenceEngine:
    """Answers checks on one in-memory world, following DESIGN.md §3 literally."""

    def __init__(self, catalogue: Catalogue, world: World) -> None:
        self.catalogue = catalogue
        self.world = world
        self.subjects = {s.id: s for s in world.subjects}
        self.graph = nx.MultiDiGraph()
        for subject in world.subjects:
            self.graph.add_node(subject.id, kind=subject.kind)
        for household in world.households:
            self.graph.add_node(household.id, kind=None)
        for link in sorted(world.links, key=lambda ln: ln.id):
            self.graph.add_edge(link.source, link.target, key=link.id, link=link)

    # -- graph access -------------------------------------------------------------------

    def _links(
        self, edges: Iterable[tuple[str, str, str, Link]], relations: frozenset[Rel], day: dt.date
    ) -> Iterator[Link]:
        found = (link for _, _, _, link in edges if link.relation in relations)
        yield from sorted((link for link in found if link.valid_on(day)), key=lambda ln: ln.id)

    def links_into(self, node: str, relations: frozenset[Rel], day: dt.date) -> Iterator[Link]:
        """Stored links of `relations` pointing at `node`, valid on `day`."""
        if node not in self.graph:
            return iter(())
        return self._links(self.graph.in_edges(node, keys=True, data="link"), relations, day)

    def links_out_of(self, node: str, relations: frozenset[Rel], day: dt.date) -> Iterator[Link]:
        """Stored links of `relations` leaving `node`, valid on `day`."""
        if node not in self.graph:
            return iter(())
        return self._links(self.graph.out_edges(node, keys=True, data="link"), relations, day)

    def is_unit(self, subject_id: str) -> bool:
        subject = self.subjects.get(subject_id)
        return subject is not None and subject.is_unit

    def is_kind(self, subject_id: str, kind: SubjectKind) -> bool:
        subject = self.subjects.get(subject_id)
        return subject is not None and subject.kind is kind

    def _into_unit(
        self, sanction: Sanction, relations: frozenset[Rel], roles: frozenset[str] | None = None
    ) -> Iterator[Reach]:
        """Subjects with a link of `relations` (and, if given, `roles`) to the sanctioned
        unit, valid on the sanction's decision date."""
        if not self.is_unit(sanction.subject_id):
            return
        for link in self.links_into(sanction.subject_id, relations, sanction.decided_on):
            if roles is None or link.role in roles:
                yield link.source, (link,)

    # -- the role table of DESIGN.md §3, one walk per role --------------------------------

    def role_self(self, sanction: Sanction, day: dt.date) -> Iterator[Reach]:
        """SELF: reaches "the sanctioned subject"."""
        yield sanction.subject_id, ()

    def role_legal_representative(self, sanction: Sanction, day: dt.date) -> Iterator[Reach]:
        """LEGAL_REPRESENTATIVE: "persons LEGAL_REPRESENTATIVE_OF the sanctioned unit",
        evaluated at "the sanction's decision date"."""
        yield from self._into_unit(sanction, frozenset({Rel.LEGAL_REPRESENTATIVE_OF}))

    def role_principal_responsible_person(
        self, sanction: Sanction, day: dt.date
    ) -> Iterator[Reach]:
        """PRINCIPAL_RESPONSIBLE_PERSON: "persons EXECUTIVE_OF it as CHAIR, GENERAL_MANAGER
        or PRINCIPAL", evaluated at the "decision date"."""
        yield from self._into_unit(
            sanction, frozenset({Rel.EXECUTIVE_OF}), PRINCIPAL_EXECUTIVE_ROLES
        )

    def role_directly_responsible_person(self, sanction: Sanction, day: dt.date) -> Iterator[Reach]:
        """DIRECTLY_RESPONSIBLE_PERSON: "persons the sanction names as responsible"; the
        path is empty (the link is the sanction itself, not a stored subject link)."""
        for person_id in sorted(set(sanction.responsible_person_ids)):
            yield person_id, ()

    def role_actual_controller(self, sanction: Sanction, day: dt.date) -> Iterator[Reach]:
        """ACTUAL_CONTROLLER: "ACTUAL_CONTROLLER_OF the sanctioned unit", evaluated at the
        "decision date"."""
        yield from self._into_unit(sanction, frozenset({Rel.ACTUAL_CONTROLLER_OF}))

    def role_director_supervisor_manager(self, sanction: Sanction, day: dt.date) -> Iterator[Reach]:
        """DIRECTOR_SUPERVISOR_MANAGER: "any EXECUTIVE_OF it", evaluated at the "decision
        date"."""
        yield from self._into_unit(sanction, frozenset({Rel.EXECUTIVE_OF}))

    def role_operator(self, sanction: Sanction, day: dt.date) -> Iterator[Reach]:
        """OPERATOR: "OPERATOR_OF the sanctioned individual business", evaluated at the
        "decision date"."""
        if self.is_kind(sanction.subject_id, SubjectKind.INDIVIDUAL_BUSINESS):
            yield from self._into_unit(sanction, frozenset({Rel.OPERATOR_OF}))

    def role_led_unit(self, sanction: Sanction, day: dt.date) -> Iterator[Reach]:
        """LED_UNIT: "units whose legal representative or actual controller is the
        sanctioned person", evaluated at "check time"."""
        if not self.is_kind(sanction.subject_id, SubjectKind.PERSON):
            return
        relations = frozenset({Rel.LEGAL_REPRESENTATIVE_OF, Rel.ACTUAL_CONTROLLER_OF})
        for link in self.links_out_of(sanction.subject_id, relations, day):
            if self.is_unit(link.target):
                yield link.target, (link,)

    def role_household_child(self, sanction: Sanction, day: dt.date) -> Iterator[Reach]:
        """HOUSEHOLD_CHILD: "persons registered as CHILD in a household where the
        sanctioned person, or a person reached by LEGAL_REPRESENTATIVE /
        PRINCIPAL_RESPONSIBLE_PERSON / ACTUAL_CONTROLLER, is registered as HEAD, SPOUSE or
        PARENT"; evaluated at "check time (household), decision date (the role before
        it)". Paths are trails: no stored link appears twice in one path."""
        for guardian, to_sanctioned in self._guardians(sanction, day):
            for membership in self.links_out_of(guardian, frozenset({Rel.MEMBER_OF}), day):
                if membership.role not in GUARDIAN_HOUSEHOLD_ROLES:
                    continue
                for child in self.links_into(membership.target, frozenset({Rel.MEMBER_OF}), day):
                    if child.role != CHILD_HOUSEHOLD_ROLE:
                        continue
                    trail = (child, membership, *to_sanctioned)
                    if is_trail(trail):
                        yield child.source, trail

    def _guardians(self, sanction: Sanction, day: dt.date) -> Iterator[Reach]:
        """Who may hold the household role for HOUSEHOLD_CHILD: the sanctioned person
        itself, and every person reached by LEGAL_REPRESENTATIVE, PRINCIPAL_RESPONSIBLE_
        PERSON or ACTUAL_CONTROLLER (each as that role is, at the decision date)."""
        if self.is_kind(sanction.subject_id, SubjectKind.PERSON):
            yield from self.role_self(sanction, day)
        yield from self.role_legal_representative(sanction, day)
        yield from self.role_principal_responsible_person(sanction, day)
        yield from self.role_actual_controller(sanction, day)

    ROLE_WALKS: ClassVar[dict[str, RoleWalk]] = {
        "SELF": role_self,
        "LEGAL_REPRESENTATIVE": role_legal_representative,
        "PRINCIPAL_RESPONSIBLE_PERSON": role_principal_responsible_person,
        "DIRECTLY_RESPONSIBLE_PERSON": role_directly_responsible_person,
        "ACTUAL_CONTROLLER": role_actual_controller,
        "DIRECTOR_SUPERVISOR_MANAGER": role_director_supervisor_manager,
        "OPERATOR": role_operator,
        "LED_UNIT": role_led_unit,
        "HOUSEHOLD_CHILD": role_household_child,
    }

    def reach(self, role: str, sanction: Sanction, day: dt.date) -> Iterator[Reach]:
        """Everyone `role` reaches from `sanction`'s subject on check day `day`."""
        walk = self.ROLE_WALKS.get(role)
        if walk is None:
            raise KeyError(f"the reference does not know role {role!r}")
        return walk(self, sanction, day)

    # -- the check ------------------------------------------------------------------------

    def measures_for(self, sanction: Sanction, area: str) -> list[Measure]:
        """The catalogue's measures of the sanction's list type in `area`."""
        return [
            m
            for m in self.catalogue.measures.values()
            if m.list_type == sanction.list_type and m.area == area
        ]

    def check(self, subject_id: str, area: str, at: dt.datetime) -> Outcome:
        """DESIGN.md §3: "A check (subject, area, at) returns every measure that reaches the
        subject in that area from a sanction that applies at `at`, each with the role, the
        sanction and the path"; when several paths give the same (measure, role,
        sanction), the canonical (shortest, then smallest) one is kept. API_CONTRACT: a
        well-formed id never registered is CLEAR with no measures, subjectKnown false."""
        if subject_id not in self.subjects:
            return Outcome(subject_id, False, CLEAR)
        day = city_day(at)
        best: dict[tuple[str, str, str], Path] = {}
        effects: dict[str, Effect] = {}
        for sanction in sorted(self.world.sanctions, key=lambda s: s.id):
            if not sanction.applies_at(at):
                continue
            for measure in self.measures_for(sanction, area):
                for role in measure.roles:
                    for reached, trail in self.reach(role, sanction, day):
                        if reached != subject_id:
                            continue
                        path = tuple(PathStep.of(link) for link in trail)
                        key = (measure.id, role, sanction.id)
                        if key not in best or path_key(path) < path_key(best[key]):
                            best[key] = path
                        effects[measure.id] = measure.effect
        return Outcome(subject_id, True, decide(effects.values()), self._rows(best, effects))

    @staticmethod
    def _rows(
        best: dict[tuple[str, str, str], Path], effects: dict[str, Effect]
    ) -> frozenset[AppliedRow]:
        """DESIGN.md §3: "Incentives that a punitive measure overrides are still listed,
        marked suppressed" (API_CONTRACT: "overridden by a punitive measure in the same
        area", i.e. in the same check)."""
        any_punitive = any(effect.punitive for effect in effects.values())
        return frozenset(
            AppliedRow(
                measure_id,
                role,
                sanction_id,
                path,
                suppressed=any_punitive and not effects[measure_id].punitive,
            )
            for (measure_id, role, sanction_id), path in best.items()
        )


def is_trail(links: Trail) -> bool:
    """Paths are trails: the same stored link never appears twice in one path (nodes may
    repeat), as the check's paths are read from DESIGN.md §3."""
    return len({link.id for link in links}) == len(links)


def decide(effects: Iterable[Effect]) -> str:
    """DESIGN.md §3: "Decision = the strongest punitive effect found [...]; else INCENTIVE
    if a red-list measure applies; else CLEAR"."""
    found = list(effects)
    punitive = [e for e in found if e.punitive]
    if punitive:
        return DECISION_OF_EFFECT[max(punitive, key=lambda e: e.strength)]
    return INCENTIVE if found else CLEAR
