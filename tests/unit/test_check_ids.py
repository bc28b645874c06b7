"""domain.check_ids and check_records.batch_row: a batch's checks keep their own
ids, and a batch record can be cut back into its checks."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from domain.check_ids import (
    batch_item_ids,
    issued_at,
    new_batch_id,
    single_check_ids,
    split_batch_item,
)
from graph_model.check_records import batch_row
from rules import default_catalogue
from rules.decision import AppliedMeasure, CheckOutcome

AT = dt.datetime(2026, 11, 1, 2, 0, tzinfo=dt.UTC)


def test_batch_items_split_back_into_batch_and_position() -> None:
    batch_id = new_batch_id()
    assert batch_id[0] == "B" and len(batch_id) == 33
    items = batch_item_ids(batch_id, 1000)
    assert items[0] == f"{batch_id}-0" and items[999] == f"{batch_id}-999"
    assert [split_batch_item(item) for item in items[:3]] == [
        (batch_id, 0),
        (batch_id, 1),
        (batch_id, 2),
    ]


@pytest.mark.parametrize(
    "check_id",
    [
        "",
        "Cnope",
        "B" + "0" * 32,
        "B" + "0" * 32 + "-",
        "B" + "0" * 32 + "-01",
        "B" + "0" * 32 + "--1",
        "B" + "0" * 32 + "-1-2",
        "B" + "0" * 31 + "-1",
        "B" + "G" * 32 + "-1",
        "b" + "0" * 32 + "-1",
        "B" + "0" * 32 + "-1234567",
        "B" + "0" * 32 + "-1\n",
    ],
)
def test_other_strings_are_not_batch_items(check_id: str) -> None:
    assert split_batch_item(check_id) is None


def test_single_ids_are_not_batch_items() -> None:
    ids = single_check_ids(3)
    assert all(i[0] == "C" and split_batch_item(i) is None for i in ids)
    assert len(set(ids)) == 3


def _outcome(subject: str, decision: str, measures: list[AppliedMeasure]) -> CheckOutcome:
    return CheckOutcome(
        check_id="unused",
        subject_id=subject,
        subject_known=subject != "unknown",
        area="CONVENIENCE_SERVICES",
        at=AT,
        decision=decision,
        measures=measures,
    )


def test_batch_row_keeps_every_check_in_input_order() -> None:
    measures = list(default_catalogue().measures.values())[:3]

    def applied(index: int, sanction: str) -> AppliedMeasure:
        return AppliedMeasure(measures[index], "SELF", {"id": sanction}, [], False)

    outcomes = [
        _outcome("a", "PROHIBITED", [applied(0, "S2"), applied(1, "S1"), applied(2, "S2")]),
        _outcome("unknown", "CLEAR", []),
        _outcome("c", "ALERT", [applied(2, "S3")]),
    ]
    row = batch_row(
        batch_id="B1",
        outcomes=outcomes,
        area="CONVENIENCE_SERVICES",
        at=AT,
        department="wz-market",
        key_name="approval",
        asked_at=AT,
    )
    assert row["size"] == 3 and row["hits"] == 2
    assert row["subjectIds"] == ["a", "unknown", "c"]
    assert row["subjectKnown"] == [True, False, True]
    assert row["decisions"] == ["PROHIBITED", "CLEAR", "ALERT"]
    assert row["measureCounts"] == [3, 0, 1]
    assert row["measureIds"] == [measures[0].id, measures[1].id, measures[2].id, measures[2].id]
    # each check's sanctions once, sorted
    assert row["sanctionCounts"] == [2, 0, 1]
    assert row["sanctionIds"] == ["S1", "S2", "S3"]
    assert row["department"] == "wz-market" and row["keyName"] == "approval"


def test_issued_at_reads_the_millisecond_in_a_check_id() -> None:
    before = time.time()
    [single] = single_check_ids(1)
    batch = new_batch_id()
    after = time.time()
    for check_id in (single, batch, f"{batch}-17"):
        issued = issued_at(check_id)
        assert issued is not None and before - 0.001 <= issued <= after


@pytest.mark.parametrize(
    "text", ["", "C123", "X" + "0" * 32, "C" + "g" * 32, "B" + "0" * 32 + "-x"]
)
def test_issued_at_is_none_for_what_is_no_check_id(text: str) -> None:
    assert issued_at(text) is None
