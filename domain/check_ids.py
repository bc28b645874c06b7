"""Check ids: one per check, whether the check was asked alone or in a batch.

A check asked alone is a `CheckRecord` of its own, keyed `C…`. A `batchCheck` call is
recorded as one `CheckBatch` node, keyed `B…`, that holds its checks in input order;
each of those checks is `B…-<position>`. One node per call instead of one per subject
spares Neo4j creating a thousand nodes per call, and every check still has its own id
for feedback and counts in the statistics.
"""

from __future__ import annotations

import re

from domain.time import time_ordered_ids

BATCH_ITEM = re.compile(r"(B[0-9a-f]{32})-(0|[1-9][0-9]{0,5})")
# the millisecond a check id was issued at (domain.time.time_ordered_ids)
_ISSUED = re.compile(r"[CB]([0-9a-f]{12})[0-9a-f]{20}(?:-[0-9]{1,6})?")


def single_check_ids(count: int) -> list[str]:
    return time_ordered_ids("C", count)


def new_batch_id() -> str:
    return time_ordered_ids("B", 1)[0]


def batch_item_ids(batch_id: str, count: int) -> list[str]:
    return [f"{batch_id}-{position}" for position in range(count)]


def split_batch_item(check_id: str) -> tuple[str, int] | None:
    """(batch id, position) of a batch check's id; None for any other string."""
    found = BATCH_ITEM.fullmatch(check_id)
    if found is None:
        return None
    return found[1], int(found[2])


def issued_at(check_id: str) -> float | None:
    """When the process that answered the check issued its id (Unix seconds, that
    process's clock); None for a string that is no check id."""
    found = _ISSUED.fullmatch(check_id)
    return int(found[1], 16) / 1000 if found else None
