"""Subscriptions: hear when a sanction that reaches a watched subject changes.

The events come from the sanction event log every API process follows (`api.event_tail`),
so a change made through any process over the same Neo4j is heard, in commit order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator

import strawberry

from api.auth import Capability
from api.context import Info
from api.types.enums import ApplicationArea
from domain.errors import BadUserInput
from domain.identifiers import validate_any_subject_id

MAX_WATCHED = 1000


@strawberry.type
class SanctionEventPayload:
    kind: str = strawberry.field(
        description="IMPOSED, LIFTED, OBJECTION_FILED or OBJECTION_RESOLVED"
    )
    sanction_id: strawberry.ID
    subject_id: strawberry.ID = strawberry.field(description="the watched subject it reaches")
    roles: list[str]
    areas: list[ApplicationArea]
    at: dt.datetime


@strawberry.type
class EventSubscription:
    @strawberry.subscription(
        description="Events of sanctions that reach any of these subjects, "
        "directly or through a role."
    )
    async def sanction_events(
        self,
        info: Info,
        subject_ids: list[strawberry.ID],
        areas: list[ApplicationArea] | None = None,
    ) -> AsyncGenerator[SanctionEventPayload, None]:
        info.context.require(Capability.CHECK, "sanctionEvents")
        if not subject_ids or len(subject_ids) > MAX_WATCHED:
            raise BadUserInput(f"subjectIds: give 1 to {MAX_WATCHED} ids", field="subjectIds")
        watched = {validate_any_subject_id(str(s), field="subjectIds") for s in subject_ids}
        info.context.audit("sanctionEvents", sorted(watched))
        wanted = {a.value for a in areas} if areas else None
        async for event in info.context.state.events.subscribe():
            for subject_id in sorted(watched & set(event.reach)):
                reach = event.reach[subject_id]
                roles = sorted({role for role, _ in reach}) or ["SELF"]
                reached_areas = sorted({area for _, area in reach})
                if wanted is not None:
                    reached_areas = [a for a in reached_areas if a in wanted]
                    if not reached_areas:
                        continue
                yield SanctionEventPayload(
                    kind=event.kind,
                    sanction_id=strawberry.ID(event.sanction_id),
                    subject_id=strawberry.ID(subject_id),
                    roles=roles,
                    areas=[ApplicationArea(a) for a in reached_areas],
                    at=event.at,
                )
