"""Reading back the access records: which key read whose personal data, and when."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry

from api.arguments import decode_cursor, encode_cursor, fingerprint, first_arg
from api.auth import Capability
from api.context import Info
from api.types.evaluation import PageInfo
from domain.errors import BadUserInput
from domain.identifiers import validate_any_subject_id
from domain.time import aware
from graph_model import access_records

CURSOR = "accessRecords"
MAX_KEY_NAME = 200
_BEGINNING = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_END = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)


def _after(cursor: str, print_: str) -> tuple[dt.datetime, str]:
    """The (at, id) a cursor of this query stands for; BAD_USER_INPUT for anything else."""
    at, last = decode_cursor(cursor, CURSOR, print_, arity=2).key
    try:
        moment = dt.datetime.fromisoformat(at)
    except (TypeError, ValueError):
        moment = None
    if moment is None or moment.tzinfo is None or not isinstance(last, str):
        raise BadUserInput("after: not a cursor returned by this query", field="after")
    return moment, last


@strawberry.type(description="One read of personal data by an audited key.")
class AccessRecord:
    id: strawberry.ID
    at: dt.datetime
    key_name: str
    department: str | None
    role: str
    field: str = strawberry.field(description="The root field read, e.g. subject.")
    subject_ids: list[strawberry.ID]
    sanction_ids: list[strawberry.ID]
    request_id: str | None

    @classmethod
    def of(cls, row: dict[str, Any]) -> AccessRecord:
        return cls(
            id=strawberry.ID(row["id"]),
            at=row["at"],
            key_name=row["keyName"],
            department=row.get("department"),
            role=row["role"],
            field=row["field"],
            subject_ids=[strawberry.ID(i) for i in row.get("subjectIds") or []],
            sanction_ids=[strawberry.ID(i) for i in row.get("sanctionIds") or []],
            request_id=row.get("requestId"),
        )


@strawberry.type
class AccessRecordEdge:
    cursor: str
    node: AccessRecord


@strawberry.type
class AccessRecordConnection:
    edges: list[AccessRecordEdge]
    page_info: PageInfo


@strawberry.type
class AuditQuery:
    @strawberry.field(
        description="Reads of personal data by audited keys (approval systems), oldest "
        "first: `from` inclusive, `to` exclusive; a keyset page."
    )
    async def access_records(
        self,
        info: Info,
        key_name: str | None = None,
        subject_id: strawberry.ID | None = None,
        from_: Annotated[dt.datetime | None, strawberry.argument(name="from")] = None,
        to: dt.datetime | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> AccessRecordConnection:
        info.context.require(Capability.REGULATE, "accessRecords")
        if key_name is not None and not 1 <= len(key_name) <= MAX_KEY_NAME:
            raise BadUserInput(f"keyName: give 1 to {MAX_KEY_NAME} characters", field="keyName")
        sid = (
            validate_any_subject_id(str(subject_id), field="subjectId")
            if subject_id is not None
            else None
        )
        start = aware(from_, field="from") if from_ is not None else _BEGINNING
        end = aware(to, field="to") if to is not None else _END
        size = first_arg(50 if first is None else first, maximum=info.context.settings.max_page)
        print_ = fingerprint(key_name, sid, start.isoformat(), end.isoformat())
        key = _after(after, print_) if after is not None else None
        rows, more = await access_records.access_page(
            info.context.graph,
            info.context.state.access,
            key_name=key_name,
            subject_id=sid,
            start=start,
            end=end,
            first=size,
            after=key,
        )
        edges = [
            AccessRecordEdge(
                cursor=encode_cursor(CURSOR, print_, [row["at"].isoformat(), row["id"]]),
                node=AccessRecord.of(row),
            )
            for row in rows
        ]
        return AccessRecordConnection(
            edges=edges,
            page_info=PageInfo(has_next_page=more, end_cursor=edges[-1].cursor if edges else None),
        )
