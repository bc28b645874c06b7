"""Feed pages: their canonical form, their signatures, the keys that make and check them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from pathlib import Path

import pytest

from api.exchange.page import (
    FeedEventData,
    FeedPageData,
    FeedSanctionData,
    PageMalformed,
    parse_page,
)
from api.exchange.signing import (
    PublicKey,
    SignatureRefused,
    SigningKey,
    SigningKeyError,
    load_signing_key,
    verify,
)
from graph_model.exchange.feed import effective_at, feed_kind

AT = dt.datetime(2026, 3, 2, 9, 30, 15, 250000, tzinfo=dt.UTC)
SANCTION = FeedSanctionData(
    id="S1",
    listType="DISHONEST_JUDGMENT_DEBTOR",
    subjectId="91330402MA00000120",
    subjectKind="ENTERPRISE",
    subjectName="嘉兴市某某纺织有限公司",
    issuer="嘉兴市中级人民法院",
    jurisdiction="jiaxing",
    decidedOn=dt.date(2026, 3, 2),
    validFrom=dt.date(2026, 3, 2),
    validTo=dt.date(2028, 3, 1),
    status="ACTIVE",
    documentNo="（2026）浙04执123号",
    reason="拒不履行",
    liftedAt=None,
)
PAGE = FeedPageData(
    jurisdiction="jiaxing",
    after=None,
    cursor="0b5c2f7e-0000-4000-8000-000000000000:1",
    has_more=False,
    events=(FeedEventData("E1", "IMPOSED", AT, SANCTION),),
)


def as_served(page: FeedPageData) -> dict[str, object]:
    """The page as GraphQL serves it (JSON values; instants with the server's offset)."""
    return {
        "jurisdiction": page.jurisdiction,
        "cursor": page.cursor,
        "hasMore": page.has_more,
        "events": [
            {
                "id": e.id,
                "kind": e.kind,
                "at": e.at.astimezone(dt.timezone(dt.timedelta(hours=8))).isoformat(),
                "sanction": {
                    **{
                        k: v
                        for k, v in dataclasses.asdict(e.sanction).items()
                        if isinstance(v, str) or v is None
                    },
                    "decidedOn": e.sanction.decidedOn.isoformat(),
                    "validFrom": e.sanction.validFrom.isoformat(),
                    "validTo": e.sanction.validTo.isoformat() if e.sanction.validTo else None,
                },
            }
            for e in page.events
        ],
    }


def test_a_signed_page_verifies_after_the_round_trip_through_json() -> None:
    key = SigningKey.generate()
    signature = key.sign(PAGE.signed_bytes())
    served = {**as_served(PAGE), "keyId": key.public.key_id, "signature": signature}
    page, key_id, got = parse_page(served, after=None)
    # the same instant written with another offset is the same canonical form
    assert page.signed_bytes() == PAGE.signed_bytes()
    assert verify(page.signed_bytes(), got, key_id, [key.public]) == key.public


@pytest.mark.parametrize(
    "change",
    [
        lambda p: dataclasses.replace(p, cursor=p.cursor[:-1] + "2"),
        lambda p: dataclasses.replace(p, has_more=True),
        lambda p: dataclasses.replace(p, jurisdiction="wenzhou"),
        lambda p: dataclasses.replace(p, after="0b5c2f7e-0000-4000-8000-000000000000:0"),
        lambda p: dataclasses.replace(p, events=()),
        lambda p: dataclasses.replace(
            p,
            events=(
                dataclasses.replace(
                    p.events[0], sanction=dataclasses.replace(SANCTION, reason="未能履行")
                ),
            ),
        ),
        lambda p: dataclasses.replace(
            p, events=(dataclasses.replace(p.events[0], kind="REVOKED"),)
        ),
        lambda p: dataclasses.replace(
            p, events=(dataclasses.replace(p.events[0], at=AT + dt.timedelta(microseconds=1)),)
        ),
    ],
)
def test_any_change_to_a_page_breaks_its_signature(change: object) -> None:
    key = SigningKey.generate()
    signature = key.sign(PAGE.signed_bytes())
    changed = change(PAGE)  # type: ignore[operator]
    with pytest.raises(SignatureRefused, match="does not verify"):
        verify(changed.signed_bytes(), signature, key.public.key_id, [key.public])


def test_during_a_rotation_either_configured_key_verifies_and_no_other() -> None:
    old, new, stranger = SigningKey.generate(), SigningKey.generate(), SigningKey.generate()
    payload = PAGE.signed_bytes()
    both = [old.public, new.public]
    assert verify(payload, old.sign(payload), old.public.key_id, both) == old.public
    assert verify(payload, new.sign(payload), new.public.key_id, both) == new.public
    with pytest.raises(SignatureRefused, match="not configured"):
        verify(payload, stranger.sign(payload), stranger.public.key_id, both)
    # a page claiming a configured key's id but signed by another
    with pytest.raises(SignatureRefused, match="does not verify"):
        verify(payload, stranger.sign(payload), old.public.key_id, both)


def test_a_public_key_is_read_back_from_its_text_and_bad_text_is_named() -> None:
    key = SigningKey.generate().public
    assert PublicKey.parse(key.text, where="x").key_id == key.key_id
    with pytest.raises(SigningKeyError, match="--public-key: a public key is written"):
        PublicKey.parse("ssh-ed25519 AAAA", where="--public-key")
    with pytest.raises(SigningKeyError, match="32 bytes, not 3"):
        PublicKey.parse("ed25519:AAAA", where="k")
    with pytest.raises(SigningKeyError, match="not valid base64"):
        PublicKey.parse("ed25519:!!!", where="k")


def test_the_signing_key_file_is_made_once_private_and_refused_when_not(tmp_path: Path) -> None:
    path = tmp_path / "data" / "exchange-signing-key.pem"
    first = load_signing_key(path, create=True)
    assert (path.stat().st_mode & 0o777) == 0o600
    assert load_signing_key(path, create=True).public == first.public  # not made again
    os.chmod(path, 0o644)
    with pytest.raises(SigningKeyError, match="readable by others"):
        load_signing_key(path, create=False)
    missing = tmp_path / "nowhere.pem"
    with pytest.raises(SigningKeyError, match="no exchange signing key file"):
        load_signing_key(missing, create=False)
    garbage = tmp_path / "garbage.pem"
    garbage.write_bytes(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    os.chmod(garbage, 0o600)
    with pytest.raises(SigningKeyError, match="not an unencrypted private key"):
        load_signing_key(garbage, create=False)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("signature"), "sanctionFeed.signature: expected str"),
        (lambda d: d["events"][0].update(at="yesterday"), r"events\[0\].at: not a date-time"),
        (
            lambda d: d["events"][0].update(at="2026-03-02T09:30:15"),
            "without its offset",
        ),
        (
            lambda d: d["events"][0]["sanction"].update(validFrom=None),
            r"events\[0\].sanction.validFrom: expected str",
        ),
        (lambda d: d.update(hasMore="no"), "hasMore: expected bool"),
    ],
)
def test_a_malformed_page_is_refused_naming_the_field(mutate: object, message: str) -> None:
    served = {**as_served(PAGE), "keyId": "k", "signature": "s"}
    mutate(served)  # type: ignore[operator]
    with pytest.raises(PageMalformed, match=message):
        parse_page(served, after=None)


@pytest.mark.parametrize(
    ("kind", "lift_kind", "expected"),
    [
        ("IMPOSED", None, "IMPOSED"),
        ("LIFTED", "REPAIRED", "LIFTED"),
        ("LIFTED", "REVOKED", "REVOKED"),
        ("OBJECTION_FILED", None, "UPDATED"),
        ("OBJECTION_RESOLVED", None, "UPDATED"),
        ("OBJECTION_RESOLVED", "REVOKED", "REVOKED"),
        ("EXPIRED", None, "EXPIRED"),
        ("UPDATED", None, "UPDATED"),
    ],
)
def test_each_logged_change_has_its_feed_kind(
    kind: str, lift_kind: str | None, expected: str
) -> None:
    assert feed_kind({"kind": kind, "liftKind": lift_kind}) == expected


def test_a_lift_takes_effect_at_its_effective_time_and_the_rest_when_made() -> None:
    later = AT + dt.timedelta(days=3)
    lifted = {"at": AT, "liftKind": "REPAIRED", "sanction": {"liftedAt": later}}
    assert effective_at(lifted) == later
    assert effective_at({"at": AT, "liftKind": None, "sanction": {"liftedAt": None}}) == AT
