"""Access records: which key read which subject's or sanction's data, and when.

Reads of personal data by the audited roles (`subject`, `sanction`, `integrityScore`,
`integrityBenefits`, `sanctionEvents` subscriptions) each leave one `AccessRecord`, so
that walking through ids shows in the trail. They are buffered and written in UNWIND
batches by the check records' machinery (`check_records.RecordBuffer`) and bounded the
same way: a read whose record could not be kept is refused, not answered.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Literal

from domain.errors import BadUserInput
from domain.time import epoch_pair, time_ordered_ids
from domain.vocabulary import Label
from graph_model.check_records import RecordBuffer, Stream, unwind_writes
from graph_model.driver import Graph
from graph_model.values import native

ACCESS_REFUSED = "access records cannot be written; the read was not answered"
# the ids one record keeps: sanctionEvents watches at most 1000 subjects, and an id
# longer than any stored one is kept cut rather than stored whole
MAX_IDS = 1000
MAX_ID_CHARS = 100

IdKind = Literal["subjectIds", "sanctionIds"]

WRITE_ACCESS, WRITE_ACCESS_AGAIN = unwind_writes(Label.ACCESS_RECORD, ("at",))
# keyset order (at, id): records written while a reader pages land after its cursor
ACCESS_PAGE = (
    f"MATCH (a:{Label.ACCESS_RECORD.value}) "
    "WHERE a.at >= $from AND a.at < $to "
    "AND ($keyName IS NULL OR a.keyName = $keyName) "
    "AND ($subjectId IS NULL OR $subjectId IN a.subjectIds) "
    "AND ($afterAt IS NULL OR a.at > $afterAt OR (a.at = $afterAt AND a.id > $afterId)) "
    "RETURN a {.*} AS record ORDER BY a.at, a.id LIMIT $limit"
)


class AccessRecorder(RecordBuffer):
    """The access records' buffer: one row per audited read."""

    def __init__(self, graph: Graph, **options: Any) -> None:
        self._reads = Stream(WRITE_ACCESS, WRITE_ACCESS_AGAIN)
        super().__init__(
            graph, (self._reads,), name="accessRecords", refusal=ACCESS_REFUSED, **options
        )

    def record(self, row: dict[str, Any]) -> None:
        """Buffer one read's record (an `access_row`), or refuse the read with
        SERVICE_UNAVAILABLE when it could not be kept."""
        if self.enabled:
            self.admit()
            self._add(self._reads, row, 1)


def access_row(
    *,
    field: str,
    ids: Sequence[str],
    id_kind: IdKind,
    key_name: str,
    department: str | None,
    role: str,
    request_id: str,
    at: dt.datetime,
) -> dict[str, Any]:
    return {
        "id": time_ordered_ids("A", 1)[0],
        "at": epoch_pair(at),
        "keyName": key_name,
        "department": department,
        "role": role,
        "field": field,
        id_kind: [i[:MAX_ID_CHARS] for i in ids[:MAX_IDS]],
        "requestId": request_id,
    }


async def access_page(
    graph: Graph,
    recorder: AccessRecorder,
    *,
    key_name: str | None,
    subject_id: str | None,
    start: dt.datetime,
    end: dt.datetime,
    first: int,
    after: tuple[dt.datetime, str] | None,
) -> tuple[list[dict[str, Any]], bool]:
    """One page of access records in (at, id) order, and whether more follow."""
    if end <= start:
        raise BadUserInput("to: must be after from", field="to")
    # every read answered so far is in the page: a regulator never misses a recent one
    await recorder.flush()
    params = {
        "from": start,
        "to": end,
        "keyName": key_name,
        "subjectId": subject_id,
        "afterAt": after[0] if after else None,
        "afterId": after[1] if after else None,
        "limit": first + 1,
    }
    rows = await graph.read(ACCESS_PAGE, params, name="accessRecords")
    records = [native(row["record"]) for row in rows]
    return records[:first], len(records) > first
