"""Credit evaluation as GraphQL: ratings, the integrity score and its benefits, the
published lists and public credit summaries, and inspection draws."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import secrets
from typing import Annotated

import strawberry

from api.arguments import decode_entry_cursor, encode_entry_cursor, first_arg
from api.auth import Capability
from api.context import Info
from api.types.enums import ListKind, SubjectKind
from api.types.subjects import Subject, subject_from_row
from domain.districts import normalise_district
from domain.errors import BadUserInput, NotFound
from domain.identifiers import SubjectKind as DomainKind
from domain.identifiers import is_resident_id, validate_any_subject_id
from domain.scoring.factors import Factor
from domain.scoring.inspections import Draw
from domain.scoring.ratings import Rating, Step, as_of, history_days, history_size
from domain.time import aware, city_date, utc_now
from graph_model.evaluation import inspections, integrity, publication, ratings
from rules.evaluation import EvaluationConfig, cross_check, default_evaluation
from rules.loader import default_catalogue
from rules.scoring import inspections as inspection_rules
from rules.scoring import integrity as integrity_rules
from rules.scoring import publication as publication_rules
from rules.scoring.ratings import UnitFacts

# registers the domain enum itself (strawberry.enum returns the class it is given)
strawberry.enum(Step, name="RatingStep")


@functools.cache
def evaluation_config() -> EvaluationConfig:
    """The evaluation data, checked once per process against the catalogue it is written
    for: rules/evaluation/ holds Wenzhou's weights, bands and partner cities, so it is
    checked against Wenzhou's packaged catalogue whatever catalogue the instance runs
    with (another jurisdiction's lacks some of its list types, and is not Wenzhou's
    partner). The queries below score with the instance's own catalogue."""
    config = default_evaluation()
    problems = cross_check(config, default_catalogue())
    if problems:
        raise ValueError("rules/evaluation does not fit the catalogue: " + "; ".join(problems))
    return config


evaluation_config()  # a broken evaluation set stops the app at start, as the catalogue does


def unit_id(value: str, field: str) -> str:
    """A well-formed unit id; a person's resident ID is BAD_USER_INPUT (not echoed)."""
    sid = validate_any_subject_id(value, field=field)
    if is_resident_id(sid):
        raise BadUserInput(
            f"{field}: expected a unit's unified social credit code, got a person's resident ID",
            field=field,
        )
    return sid


def person_id(value: str, field: str) -> str:
    sid = validate_any_subject_id(value, field=field)
    if not is_resident_id(sid):
        raise BadUserInput(
            f"{field}: expected a person's resident ID, got a unit's credit code {sid}",
            field=field,
        )
    return sid


# ---------------------------------------------------------------- types


@strawberry.type(description="One factor of a score: signed points and what produced them.")
class RiskFactor:
    code: str
    weight: float
    detail: str

    @classmethod
    def of(cls, factor: Factor) -> RiskFactor:
        return cls(code=factor.code, weight=factor.weight, detail=factor.detail)


@strawberry.type(description="A unit's public credit grade; score = the sum of the factors.")
class CreditRating:
    subject_id: strawberry.ID
    grade: str
    score: float
    factors: list[RiskFactor]
    at: dt.datetime

    @classmethod
    def of(cls, rating: Rating) -> CreditRating:
        return cls(
            subject_id=strawberry.ID(rating.subject_id),
            grade=rating.grade.value,
            score=rating.score,
            factors=[RiskFactor.of(f) for f in rating.factors],
            at=rating.at,
        )


@strawberry.type(description="The rating as of the end of one day (or now, for today).")
class CreditRatingPoint:
    on: dt.date
    at: dt.datetime
    grade: str
    score: float
    factors: list[RiskFactor]


@strawberry.type
class ScoreDimension:
    name: str
    label: str
    score: int
    max: int
    detail: str
    factors: list[RiskFactor]


@strawberry.type(description="A person's integrity score, 0..1000, with its five dimensions.")
class IntegrityScore:
    person_id: strawberry.ID
    score: int
    band: str = strawberry.field(
        description="NEEDS_IMPROVEMENT | FAIR | GOOD | EXCELLENT | OUTSTANDING"
    )
    band_label: str
    at: dt.datetime
    dimensions: list[ScoreDimension]

    @classmethod
    def of(cls, result: integrity_rules.IntegrityScore) -> IntegrityScore:
        return cls(
            person_id=strawberry.ID(result.person_id),
            score=result.score,
            band=result.band.code,
            band_label=result.band.label,
            at=result.at,
            dimensions=[
                ScoreDimension(
                    name=d.name,
                    label=d.label,
                    score=d.score,
                    max=d.max,
                    detail=d.detail,
                    factors=[RiskFactor.of(f) for f in d.factors],
                )
                for d in result.dimensions
            ],
        )


@strawberry.type
class IntegrityBenefit:
    id: strawberry.ID
    name: str
    provider: str
    min_score: int
    qualified: bool
    gap: int = strawberry.field(description="Points still missing; 0 when qualified.")


@strawberry.type
class PartnerRecognition:
    jurisdiction: strawberry.ID
    name: str
    recognized_bands: list[str]
    recognized: bool = strawberry.field(description="Whether this city honours the person's band.")


@strawberry.type
class IntegrityBenefits:
    person_id: strawberry.ID
    score: int
    band: str
    band_label: str
    benefits: list[IntegrityBenefit]
    partner_cities: list[PartnerRecognition]


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class PublishedEntry:
    sanction_id: strawberry.ID
    list_type: strawberry.ID
    kind: ListKind
    subject_kind: SubjectKind
    subject_id: str = strawberry.field(
        description="Persons: first 6 and last 4 characters kept, the 8 between shown as '*'."
    )
    subject_name: str = strawberry.field(description="Persons: only the first character shown.")
    district: str | None
    issuer: str
    issuer_id: strawberry.ID
    decided_on: dt.date
    valid_to: dt.date | None

    @classmethod
    def of(cls, entry: publication_rules.PublishedEntry) -> PublishedEntry:
        return cls(
            sanction_id=strawberry.ID(entry.sanction_id),
            list_type=strawberry.ID(entry.list_type),
            kind=ListKind(entry.kind),
            subject_kind=entry.subject_kind,
            subject_id=entry.subject_id,
            subject_name=entry.subject_name,
            district=entry.district,
            issuer=entry.issuer,
            issuer_id=strawberry.ID(entry.issuer_id),
            decided_on=entry.decided_on,
            valid_to=entry.valid_to,
        )


@strawberry.type
class PublishedEntryEdge:
    cursor: str
    node: PublishedEntry


@strawberry.type
class PublishedEntryConnection:
    edges: list[PublishedEntryEdge]
    page_info: PageInfo


@strawberry.type(description="What a credit portal shows about a subject: its published entries.")
class PublicCreditSummary:
    subject_id: strawberry.ID
    kind: SubjectKind
    name: str
    district: str | None
    black_count: int
    red_count: int
    watch_count: int
    entries: list[PublishedEntry]


@strawberry.type
class InspectionTarget:
    subject: Subject
    grade: str


@strawberry.type
class InspectorConflict:
    target: strawberry.ID
    inspector: strawberry.ID
    reason: str = strawberry.field(description="LINKED | HOUSEHOLD | VIA_UNIT")


@strawberry.type
class InspectionDraw:
    id: strawberry.ID
    seed: str
    targets: list[InspectionTarget]
    inspectors: list[strawberry.ID] = strawberry.field(
        description="inspectorsPerTarget per target, in target order."
    )
    district: str | None
    industry: str | None
    count: int
    inspectors_per_target: int
    candidate_count: int
    conflicts: list[InspectorConflict] = strawberry.field(
        description="Pool members left out for a target because they are linked to it."
    )
    algorithm: str
    created_at: dt.datetime
    created_by: str | None

    @classmethod
    def of(cls, draw: Draw) -> InspectionDraw:
        return cls(
            id=strawberry.ID(draw.id or ""),
            seed=draw.params.seed,
            targets=[
                InspectionTarget(subject=subject_from_row(subject), grade=grade.value)
                for subject, grade in draw.targets
            ],
            inspectors=[strawberry.ID(p) for p in draw.flat_inspectors],
            district=draw.params.district,
            industry=draw.params.industry,
            count=draw.params.count,
            inspectors_per_target=draw.params.per_target,
            candidate_count=draw.candidate_count,
            conflicts=[
                InspectorConflict(
                    target=strawberry.ID(c.target),
                    inspector=strawberry.ID(c.inspector),
                    reason=c.reason,
                )
                for c in draw.conflicts
            ],
            algorithm=draw.algorithm,
            created_at=draw.at,
            created_by=draw.created_by,
        )


@strawberry.type
class InspectionReplay:
    draw_id: strawberry.ID
    matches: bool
    differences: list[str]
    recorded: InspectionDraw
    replayed: InspectionDraw | None


@strawberry.input
class InspectionDrawInput:
    district: str | None = None
    industry: str | None = None
    count: int
    seed: str | None = None
    inspector_pool: list[strawberry.ID]
    inspectors_per_target: int | None = 2


# ---------------------------------------------------------------- roots


async def _unit_facts(info: Info, subject_id: strawberry.ID, name: str) -> UnitFacts:
    sid = unit_id(str(subject_id), "subjectId")
    facts = await ratings.unit_facts(info.context.graph, sid, evaluation_config().rating, name=name)
    if facts is None:
        raise NotFound(f"subjectId: no unit {sid}", field="subjectId")
    if not facts.is_unit:
        raise BadUserInput(
            "subjectId: credit ratings are for units, not persons", field="subjectId"
        )
    return facts


async def _person_score(
    info: Info, value: strawberry.ID, name: str
) -> integrity_rules.IntegrityScore:
    """The integrity score now of the person `value` names, read (and audited) as `name`."""
    info.context.require(Capability.READ_SUBJECT, name)
    info.context.audit(name, [validate_any_subject_id(str(value), field="personId")])
    pid = person_id(str(value), "personId")
    config = evaluation_config()
    facts = await integrity.person_facts(info.context.graph, pid, config)
    if facts is None:
        raise NotFound(f"personId: no registered person {pid}", field="personId")
    return integrity_rules.score_person(facts, utc_now(), config, info.context.catalogue)


@strawberry.type
class EvaluationQuery:
    @strawberry.field(description="A unit's public credit grade A-D now (or at `at`), explained.")
    async def credit_rating(
        self,
        info: Info,
        subject_id: strawberry.ID,
        at: dt.datetime | None = None,
    ) -> CreditRating:
        info.context.require(Capability.REGULATE, "creditRating")
        facts = await _unit_facts(info, subject_id, "creditRating")
        moment = aware(at) if at is not None else utc_now()
        return CreditRating.of(
            facts.rate(moment, evaluation_config().rating, info.context.catalogue)
        )

    @strawberry.field(description="A unit's grade as of each step from `from` to `to` (computed).")
    async def credit_rating_history(
        self,
        info: Info,
        subject_id: strawberry.ID,
        from_: Annotated[dt.date, strawberry.argument(name="from")],
        to: dt.date | None = None,
        step: Step = Step.MONTH,
    ) -> list[CreditRatingPoint]:
        info.context.require(Capability.REGULATE, "creditRatingHistory")
        config = evaluation_config().rating
        now = utc_now()
        today = city_date(now)
        end = to or today
        if end > today:
            raise BadUserInput(f"to: {end} is in the future", field="to")
        if from_ > end:
            raise BadUserInput(f"from: {from_} is after to {end}", field="from")
        step_value = Step(step)
        size = history_size(from_, end, step_value)
        if size > config.max_history_points:
            raise BadUserInput(
                f"step: {step_value.value} from {from_} to {end} gives {size} points; "
                f"at most {config.max_history_points}",
                field="step",
            )
        facts = await _unit_facts(info, subject_id, "creditRatingHistory")
        points = []
        for day in history_days(from_, end, step_value):
            rating = facts.rate(as_of(day, now), config, info.context.catalogue)
            points.append(
                CreditRatingPoint(
                    on=day,
                    at=rating.at,
                    grade=rating.grade.value,
                    score=rating.score,
                    factors=[RiskFactor.of(f) for f in rating.factors],
                )
            )
        return points

    @strawberry.field(description="A person's integrity score (0..1000) with its dimensions.")
    async def integrity_score(self, info: Info, person_id: strawberry.ID) -> IntegrityScore:
        return IntegrityScore.of(await _person_score(info, person_id, "integrityScore"))

    @strawberry.field(
        description="The benefits a person's score unlocks (with the gap to the others), and "
        "which partner cities honour its band."
    )
    async def integrity_benefits(self, info: Info, person_id: strawberry.ID) -> IntegrityBenefits:
        result = await _person_score(info, person_id, "integrityBenefits")
        config = evaluation_config()
        catalogue = info.context.catalogue
        return IntegrityBenefits(
            person_id=strawberry.ID(result.person_id),
            score=result.score,
            band=result.band.code,
            band_label=result.band.label,
            benefits=[
                IntegrityBenefit(
                    id=strawberry.ID(e.benefit.id),
                    name=e.benefit.name,
                    provider=e.benefit.provider,
                    min_score=e.benefit.min_score,
                    qualified=e.qualified,
                    gap=e.gap,
                )
                for e in integrity_rules.eligibility(result.score, config.integrity.benefits)
            ],
            partner_cities=[
                PartnerRecognition(
                    jurisdiction=strawberry.ID(r.jurisdiction),
                    name=r.name,
                    recognized_bands=list(r.bands),
                    recognized=r.recognized,
                )
                for r in integrity_rules.recognition(result.band, config, catalogue)
            ],
        )

    @strawberry.field(
        description="The published red, black or watch list: ACTIVE, recognised entries that "
        "apply now, newest decision first; persons' ids and names masked."
    )
    async def published_list(
        self,
        info: Info,
        kind: ListKind,
        list_type: strawberry.ID | None = None,
        district: str | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> PublishedEntryConnection:
        info.context.require(Capability.CATALOGUE, "publishedList")
        catalogue = info.context.catalogue
        size = first_arg(50 if first is None else first, maximum=info.context.settings.max_page)
        kind_value = ListKind(kind).value
        if list_type is not None:
            found = catalogue.list_types.get(str(list_type))
            if found is None:
                raise BadUserInput(
                    f"listType: unknown list type {str(list_type)[:60]!r}", field="listType"
                )
            if found.kind.value != kind_value:
                raise BadUserInput(
                    f"listType: {found.id} is a {found.kind.value} list, not {kind_value}",
                    field="listType",
                )
            if not found.published:
                raise BadUserInput(f"listType: {found.id} is not published", field="listType")
            list_types = [found.id]
        else:
            list_types = publication_rules.published_list_types(catalogue, kind_value)
        page = await publication.published_page(
            info.context.graph,
            catalogue,
            kind=kind_value,
            list_types=list_types,
            district=normalise_district(district, field="district"),
            first=size,
            after=decode_entry_cursor(after) if after is not None else None,
            now=utc_now(),
        )
        edges = [
            PublishedEntryEdge(
                cursor=encode_entry_cursor(e.decided_on, e.sanction_id), node=PublishedEntry.of(e)
            )
            for e in page.entries
        ]
        return PublishedEntryConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None
            ),
        )

    @strawberry.field(
        description="A subject's published credit entries for portals. PUBLIC callers may ask "
        "about units only; a person's summary needs an API key."
    )
    async def public_credit_summary(
        self, info: Info, subject_id: strawberry.ID
    ) -> PublicCreditSummary:
        principal = info.context.require(Capability.CATALOGUE, "publicCreditSummary")
        sid = validate_any_subject_id(str(subject_id), field="subjectId")
        persons_allowed = principal.can(Capability.READ_SUBJECT)
        if is_resident_id(sid) and not persons_allowed:
            raise principal.refusal("subjectId: a person's credit summary", field="subjectId")
        summary = await publication.subject_summary(
            info.context.graph, info.context.catalogue, sid, utc_now()
        )
        if summary is None:
            raise NotFound(f"subjectId: no subject {sid}", field="subjectId")
        kind = DomainKind(summary.subject["kind"])
        if kind is DomainKind.PERSON and not persons_allowed:
            raise principal.refusal("subjectId: a person's credit summary", field="subjectId")
        return PublicCreditSummary(
            subject_id=strawberry.ID(summary.subject["id"]),
            kind=kind,
            name=summary.subject.get("name") or "",
            district=summary.subject.get("district"),
            black_count=summary.count("BLACK"),
            red_count=summary.count("RED"),
            watch_count=summary.count("WATCH"),
            entries=[PublishedEntry.of(e) for e in summary.entries],
        )

    @strawberry.field(description="A recorded inspection draw; null when there is none.")
    async def inspection_draw(self, info: Info, id: strawberry.ID) -> InspectionDraw | None:
        info.context.require(Capability.SUPERVISE, "inspectionDraw")
        draw = await inspections.get_draw(info.context.graph, str(id))
        return InspectionDraw.of(draw) if draw else None

    @strawberry.field(
        description="Re-run a recorded draw from its seed and parameters and compare."
    )
    async def replay_inspection_draw(self, info: Info, id: strawberry.ID) -> InspectionReplay:
        info.context.require(Capability.SUPERVISE, "replayInspectionDraw")
        replay = await inspections.replay_draw(
            info.context.graph, evaluation_config(), info.context.catalogue, str(id)
        )
        replayed = None
        if replay.replayed is not None:
            replayed = InspectionDraw.of(
                dataclasses.replace(replay.replayed, id=replay.recorded.id)
            )
        return InspectionReplay(
            draw_id=strawberry.ID(replay.recorded.id or ""),
            matches=replay.matches,
            differences=replay.differences,
            recorded=InspectionDraw.of(replay.recorded),
            replayed=replayed,
        )


@strawberry.type
class EvaluationMutation:
    @strawberry.mutation(
        description="Draw inspection targets weighted by credit grade and inspectors free of "
        "conflicts, reproducibly from a seed; the draw is recorded."
    )
    async def draw_inspections(self, info: Info, input: InspectionDrawInput) -> InspectionDraw:
        principal = info.context.require(Capability.SUPERVISE, "drawInspections")
        config = evaluation_config()
        params = inspection_rules.validate_params(
            config,
            district=input.district,
            industry=input.industry,
            count=input.count,
            seed=input.seed,
            pool=[str(p) for p in input.inspector_pool],
            per_target=2 if input.inspectors_per_target is None else input.inspectors_per_target,
            new_seed=secrets.token_hex(8),
        )
        graph = info.context.graph
        await inspections.check_pool(graph, params)
        now = utc_now()
        draw = await inspections.compute_draw(
            graph, config, info.context.catalogue, params, now, known_at=now, name="drawInspections"
        )
        return InspectionDraw.of(await inspections.record_draw(graph, draw, principal.name))
