"""The signed sanction feed partners pull, and what this instance took from theirs.

`sanctionFeed` serves this jurisdiction's changes in commit order (`graph_model.exchange.
feed`); each page is signed with the instance's key (`api.exchange.signing`) over its
canonical form (`api.exchange.page`). The cursor is `<log id>:<seq>`: the log's id makes a
cursor from a replaced log (a database emptied and written again) an error instead of a
silent jump.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import Enum

import strawberry

from api.auth import Capability
from api.context import Info
from api.exchange.page import FeedEventData, FeedPageData, FeedSanctionData
from api.limits import LARGE_PAGES
from api.types.enums import SanctionStatus, SubjectKind
from domain.errors import BadUserInput, ServiceUnavailable
from domain.time import city_date, utc_now
from graph_model.exchange import feed as feed_model
from graph_model.exchange import status as exchange_status

MAX_FEED_PAGE = LARGE_PAGES["sanctionFeed"]
_CURSOR = re.compile(r"^(?P<log>[0-9a-f-]{36}):(?P<seq>[0-9]{1,18})$")
# the cursor of an empty feed of a database without an event log yet: the start
NO_LOG = "00000000-0000-0000-0000-000000000000"


@strawberry.enum(description="What changed: the contract's kinds of feed event.")
class FeedEventKind(Enum):
    IMPOSED = "IMPOSED"
    LIFTED = "LIFTED"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"
    UPDATED = "UPDATED"


@strawberry.type(description="A sanction as one feed event left it.")
class FeedSanction:
    id: strawberry.ID
    list_type: strawberry.ID
    subject_id: strawberry.ID
    subject_kind: SubjectKind
    subject_name: str
    issuer: str = strawberry.field(description="The issuing body's name in its jurisdiction.")
    jurisdiction: strawberry.ID
    decided_on: dt.date
    valid_from: dt.date
    valid_to: dt.date | None
    status: SanctionStatus
    document_no: str
    reason: str
    lifted_at: dt.datetime | None = strawberry.field(
        description="When a lift or revocation takes effect."
    )

    @classmethod
    def of(cls, data: FeedSanctionData) -> FeedSanction:
        return cls(
            id=strawberry.ID(data.id),
            list_type=strawberry.ID(data.listType),
            subject_id=strawberry.ID(data.subjectId),
            subject_kind=SubjectKind(data.subjectKind),
            subject_name=data.subjectName,
            issuer=data.issuer,
            jurisdiction=strawberry.ID(data.jurisdiction),
            decided_on=data.decidedOn,
            valid_from=data.validFrom,
            valid_to=data.validTo,
            status=SanctionStatus(data.status),
            document_no=data.documentNo,
            reason=data.reason,
            lifted_at=data.liftedAt,
        )


@strawberry.type(description="One change of a sanction of the publishing jurisdiction.")
class FeedEvent:
    id: strawberry.ID = strawberry.field(description="Stable: the same event, the same id.")
    kind: FeedEventKind
    at: dt.datetime = strawberry.field(
        description="When the change takes effect (a lift's effective time, an expiry's day)."
    )
    sanction: FeedSanction


@strawberry.type(description="A signed page of the sanction feed.")
class FeedPage:
    events: list[FeedEvent]
    cursor: str = strawberry.field(description="Pass as `after` for the next page.")
    has_more: bool
    jurisdiction: strawberry.ID = strawberry.field(description="The publishing jurisdiction.")
    key_id: str = strawberry.field(description="The id of the key that signed the page.")
    signature: str = strawberry.field(
        description="Ed25519 signature (base64) of the page's canonical form: docs/exchange.md."
    )


def _after_seq(after: str | None) -> tuple[str | None, int]:
    if after is None:
        return None, 0
    match = _CURSOR.fullmatch(after)
    if match is None:
        raise BadUserInput("after: not a cursor returned by sanctionFeed", field="after")
    if match["log"] == NO_LOG:
        return None, 0
    return match["log"], int(match["seq"])


def _page_data(own: str, after: str | None, read: feed_model.FeedRead, cursor: str) -> FeedPageData:
    events = []
    for event in read.events:
        sanction = event["sanction"]
        events.append(
            FeedEventData(
                id=event["id"],
                kind=feed_model.feed_kind(event),
                at=feed_model.effective_at(event),
                sanction=FeedSanctionData(
                    id=sanction["id"],
                    listType=sanction["listType"],
                    subjectId=sanction["subjectId"],
                    subjectKind=sanction["subjectKind"],
                    subjectName=sanction["subjectName"],
                    issuer=sanction["issuer"],
                    jurisdiction=sanction["jurisdiction"],
                    decidedOn=sanction["decidedOn"],
                    validFrom=sanction["validFrom"],
                    validTo=sanction["validTo"],
                    status=sanction["status"],
                    documentNo=sanction["documentNo"],
                    reason=sanction["reason"],
                    liftedAt=sanction["liftedAt"],
                ),
            )
        )
    return FeedPageData(own, after, cursor, read.has_more, tuple(events))


@strawberry.type
class ExchangeQuery:
    @strawberry.field(
        description="Every change of a sanction of this jurisdiction, in commit order; "
        "follow `cursor` until `hasMore` is false. Entries relayed from elsewhere are not "
        "published again. PARTNER, REGULATOR, ADMIN."
    )
    async def sanction_feed(
        self, info: Info, after: str | None = None, first: int | None = 500
    ) -> FeedPage:
        info.context.require(Capability.FEED, "sanctionFeed")
        size = 500 if first is None else first
        if not 1 <= size <= MAX_FEED_PAGE:
            raise BadUserInput(f"first: give 1 to {MAX_FEED_PAGE}", field="first")
        log_id, seq = _after_seq(after)
        state = info.context.state
        if state.signing_key is None:
            raise ServiceUnavailable("the feed's signing key is not loaded")
        own = state.catalogue.local_jurisdiction.id
        await feed_model.publish_expiries(info.context.graph, city_date(utc_now()))
        read = await feed_model.read_feed(info.context.graph, own, seq, size)
        if log_id is not None and read.log_id != log_id:
            raise BadUserInput(
                "after: the cursor is of a feed this instance no longer has (its event log "
                "was replaced); read again from after: null",
                field="after",
            )
        cursor = f"{read.log_id or NO_LOG}:{read.through}"
        data = _page_data(own, after, read, cursor)
        key = state.signing_key
        return FeedPage(
            events=[
                FeedEvent(
                    id=strawberry.ID(e.id),
                    kind=FeedEventKind(e.kind),
                    at=e.at,
                    sanction=FeedSanction.of(e.sanction),
                )
                for e in data.events
            ],
            cursor=cursor,
            has_more=read.has_more,
            jurisdiction=strawberry.ID(own),
            key_id=key.public.key_id,
            signature=key.sign(data.signed_bytes()),
        )


@strawberry.type(description="A partner pulled from, or a source of list files imported.")
class ExchangeSource:
    jurisdiction: strawberry.ID
    url: str | None = strawberry.field(description="The feed last pulled (null for files).")
    last_pull_at: dt.datetime | None
    last_success_at: dt.datetime | None
    last_applied_at: dt.datetime | None
    last_error: str | None = strawberry.field(description="Why the last pull failed, if it did.")
    applied: int = strawberry.field(description="Events applied, over every pull and import.")
    kept_aside: int = strawberry.field(description="Events kept aside, each once.")
    entries: int = strawberry.field(description="Entries from this source stored here.")


@strawberry.type(description="An event from a source that could not be applied here.")
class KeptAsideEvent:
    source: strawberry.ID
    event_id: strawberry.ID
    kind: str
    sanction_id: str = strawberry.field(description="The entry's id at the source.")
    reason: str
    at: dt.datetime = strawberry.field(description="When the change took effect there.")
    kept_at: dt.datetime


@strawberry.type(description="What this instance publishes and what it takes from others.")
class ExchangeStatus:
    jurisdiction: strawberry.ID = strawberry.field(description="This instance's jurisdiction.")
    public_key: str = strawberry.field(
        description="The key partners verify this instance's feed with (ed25519:<base64>)."
    )
    key_id: str
    sources: list[ExchangeSource]
    kept_aside: list[KeptAsideEvent] = strawberry.field(description="Newest first.")


MAX_KEPT_ASIDE = 500


@strawberry.type
class ExchangeStatusQuery:
    @strawberry.field(
        description="Each partner's and list source's last pull, events applied and kept "
        "aside, with the newest events kept aside. REGULATOR, ADMIN."
    )
    async def exchange_status(self, info: Info, kept_aside_first: int = 50) -> ExchangeStatus:
        info.context.require(Capability.REGULATE, "exchangeStatus")
        if not 0 <= kept_aside_first <= MAX_KEPT_ASIDE:
            raise BadUserInput(
                f"keptAsideFirst: give 0 to {MAX_KEPT_ASIDE}", field="keptAsideFirst"
            )
        state = info.context.state
        if state.signing_key is None:
            raise ServiceUnavailable("the feed's signing key is not loaded")
        sources = await exchange_status.sources(info.context.graph)
        kept = await exchange_status.kept_aside(info.context.graph, None, kept_aside_first)
        return ExchangeStatus(
            jurisdiction=strawberry.ID(state.catalogue.local_jurisdiction.id),
            public_key=state.signing_key.public.text,
            key_id=state.signing_key.public.key_id,
            sources=[
                ExchangeSource(
                    jurisdiction=strawberry.ID(s["id"]),
                    url=s.get("url"),
                    last_pull_at=s.get("lastPullAt"),
                    last_success_at=s.get("lastSuccessAt"),
                    last_applied_at=s.get("lastAppliedAt"),
                    last_error=s.get("lastError"),
                    applied=int(s.get("applied") or 0),
                    kept_aside=int(s.get("keptAside") or 0),
                    entries=int(s.get("entries") or 0),
                )
                for s in sources
            ],
            kept_aside=[
                KeptAsideEvent(
                    source=strawberry.ID(k["source"]),
                    event_id=strawberry.ID(k["eventId"]),
                    kind=k["kind"],
                    sanction_id=k["sanctionId"],
                    reason=k["reason"],
                    at=k["at"],
                    kept_at=k["keptAt"],
                )
                for k in kept
            ],
        )
