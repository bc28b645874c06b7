"""The joint sanction check, the batch check and the closed loop's feedback."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Annotated, Any

import strawberry

from api.auth import Capability
from api.context import Info
from api.types.catalogue import Measure
from api.types.enums import ApplicationArea, Decision, FeedbackOutcome, RelationType
from api.types.sanctions import Sanction
from domain.check_ids import new_batch_id
from domain.errors import BadUserInput
from domain.identifiers import validate_any_subject_id
from domain.text import clean_text
from domain.time import aware, utc_now
from domain.vocabulary import Rel
from graph_model import check_records
from rules.decision import CheckOutcome


@strawberry.type
class PathStep:
    from_: strawberry.ID = strawberry.field(name="from")
    relation: RelationType
    to: strawberry.ID
    valid_from: dt.date
    valid_to: dt.date | None


@strawberry.type
class AppliedMeasure:
    measure: Measure
    role: str
    sanction: Sanction
    path: list[PathStep] = strawberry.field(
        description="Stored links from the checked subject to the sanctioned one; [] for SELF "
        "and for a person the sanction names as responsible."
    )
    suppressed: bool


@strawberry.type
class CheckResult:
    check_id: strawberry.ID
    subject_id: strawberry.ID
    subject_known: bool
    area: ApplicationArea
    at: dt.datetime
    decision: Decision
    measures: list[AppliedMeasure]


@strawberry.type
class Feedback:
    id: strawberry.ID
    check_id: strawberry.ID
    outcome: FeedbackOutcome
    note: str | None


@strawberry.input
class FeedbackInput:
    check_id: strawberry.ID
    outcome: FeedbackOutcome
    note: str | None = None


@strawberry.type
class LinkageStat:
    department: str | None
    area: ApplicationArea
    checks: int
    hits: int
    feedbacks: int
    applied: int
    partially_applied: int
    not_applied: int
    feedback_rate: float
    hit_rate: float


def path_steps(path: list[dict[str, Any]]) -> list[PathStep]:
    return [
        PathStep(
            from_=strawberry.ID(step["from"]),
            relation=Rel(step["relation"]),
            to=strawberry.ID(step["to"]),
            valid_from=step["validFrom"],
            valid_to=step.get("validTo"),
        )
        for step in path
    ]


def _result(outcome: CheckOutcome) -> CheckResult:
    return CheckResult(
        check_id=strawberry.ID(outcome.check_id),
        subject_id=strawberry.ID(outcome.subject_id),
        subject_known=outcome.subject_known,
        area=ApplicationArea(outcome.area),
        at=outcome.at,
        decision=Decision(outcome.decision),
        measures=[
            AppliedMeasure(
                measure=Measure.of(applied.measure),
                role=applied.role,
                sanction=Sanction.of(applied.sanction),
                path=path_steps(applied.path),
                suppressed=applied.suppressed,
            )
            for applied in outcome.measures
        ],
    )


async def run_checks(
    info: Info,
    subject_ids: list[str],
    area: ApplicationArea,
    at: dt.datetime | None,
    *,
    batch: bool,
) -> list[CheckResult]:
    """The checks, recorded: one CheckRecord for a check asked alone, one CheckBatch for
    a batchCheck call. SERVICE_UNAVAILABLE instead while their records cannot be kept
    (`RecordBuffer.admit`): a check is never answered without its record."""
    context = info.context
    moment = aware(at) if at is not None else utc_now()
    state = context.state
    batch_id = new_batch_id() if batch else None
    # refused here, before any answer exists, while the records could not be kept
    state.recorder.admit(len(subject_ids))
    outcomes = await state.checks.check_many(
        context.graph, subject_ids, area.value, moment, batch_id=batch_id
    )
    asked_at = utc_now()
    principal = context.principal
    if batch_id is not None:
        if not outcomes:  # nothing was checked, so nothing to record
            return []
        state.recorder.record_batch(
            check_records.batch_row(
                batch_id=batch_id,
                outcomes=outcomes,
                area=area.value,
                at=moment,
                department=principal.department,
                key_name=principal.name,
                asked_at=asked_at,
            )
        )
    else:
        for outcome in outcomes:
            state.recorder.record(
                check_records.record_row(
                    check_id=outcome.check_id,
                    subject_id=outcome.subject_id,
                    subject_known=outcome.subject_known,
                    area=outcome.area,
                    at=outcome.at,
                    decision=outcome.decision,
                    measure_ids=[m.measure.id for m in outcome.measures],
                    sanction_ids=[m.sanction["id"] for m in outcome.measures],
                    department=principal.department,
                    key_name=principal.name,
                    asked_at=asked_at,
                )
            )
    await state.recorder.make_room()
    decisions = Counter((outcome.area, outcome.decision) for outcome in outcomes)
    # one labelled increment per decision, not per subject: `labels()` takes a lock
    for (area_value, decision), count in decisions.items():
        state.metrics.decisions.labels(area_value, decision).inc(count)
    return [_result(o) for o in outcomes]


@strawberry.type
class CheckQuery:
    @strawberry.field(
        description="Is this subject under joint sanctions (or incentives) in this area, and why?"
    )
    async def joint_sanction_check(
        self,
        info: Info,
        subject_id: strawberry.ID,
        area: ApplicationArea,
        at: dt.datetime | None = None,
    ) -> CheckResult:
        info.context.require(Capability.CHECK, "jointSanctionCheck")
        sid = validate_any_subject_id(str(subject_id), field="subjectId")
        return (await run_checks(info, [sid], area, at, batch=False))[0]

    @strawberry.field(description="The check for many subjects at once, in input order.")
    async def batch_check(
        self,
        info: Info,
        subject_ids: list[strawberry.ID],
        area: ApplicationArea,
        at: dt.datetime | None = None,
    ) -> list[CheckResult]:
        info.context.require(Capability.CHECK, "batchCheck")
        limit = info.context.settings.max_batch
        if len(subject_ids) > limit:
            raise BadUserInput(
                f"subjectIds: {len(subject_ids)} ids; at most {limit} per call", field="subjectIds"
            )
        ids = [
            validate_any_subject_id(str(s), field=f"subjectIds[{n}]")
            for n, s in enumerate(subject_ids)
        ]
        return await run_checks(info, ids, area, at, batch=True)

    @strawberry.field(description="Checks, hits and feedback per department and area.")
    async def linkage_stats(
        self,
        info: Info,
        from_: Annotated[dt.datetime, strawberry.argument(name="from")],
        to: dt.datetime | None = None,
        department: strawberry.ID | None = None,
        area: ApplicationArea | None = None,
    ) -> list[LinkageStat]:
        info.context.require(Capability.REGULATE, "linkageStats")
        if department is not None and str(department) not in info.context.catalogue.departments:
            raise BadUserInput(
                f"department: unknown department {str(department)[:60]!r}", field="department"
            )
        rows = await check_records.linkage_stats(
            info.context.graph,
            info.context.state.recorder,
            start=aware(from_, field="from"),
            end=aware(to, field="to") if to else utc_now(),
            department=str(department) if department else None,
            area=area.value if area else None,
        )
        return [
            LinkageStat(
                department=row["department"],
                area=ApplicationArea(row["area"]),
                checks=row["checks"],
                hits=row["hits"],
                feedbacks=row["feedbacks"],
                applied=row["applied"],
                partially_applied=row["partiallyApplied"],
                not_applied=row["notApplied"],
                feedback_rate=row["feedbacks"] / row["checks"] if row["checks"] else 0.0,
                hit_rate=row["hits"] / row["checks"] if row["checks"] else 0.0,
            )
            for row in rows
        ]


@strawberry.type
class CheckMutation:
    @strawberry.mutation(description="Report what was done with a check's answer.")
    async def record_feedback(self, info: Info, input: FeedbackInput) -> Feedback:
        principal = info.context.require(Capability.FEEDBACK, "recordFeedback")
        row = await check_records.record_feedback(
            info.context.graph,
            info.context.state.recorder,
            check_id=str(input.check_id),
            outcome=FeedbackOutcome(input.outcome).value,
            note=clean_text(input.note, "input.note", multiline=True)
            if input.note is not None
            else None,
            department=principal.department,
            key_name=principal.name,
            any_department=principal.role.value == "ADMIN",
        )
        return Feedback(
            id=strawberry.ID(row["id"]),
            check_id=strawberry.ID(row["checkId"]),
            outcome=FeedbackOutcome(row["outcome"]),
            note=row.get("note"),
        )
