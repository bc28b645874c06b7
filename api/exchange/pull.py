"""Pulling a partner's sanction feed into this instance.

A pull reads the partner's feed page by page from the position kept in Neo4j, verifies
each page's signature against the partner's configured public keys, and applies it in one
transaction with the new position (`graph_model.exchange.apply`). A page that fails any
check (signature, jurisdiction, shape) is refused whole and nothing of it is applied; the
position stays, so the next pull asks for the same page again.

While one page is applied the next is already being fetched: the two halves overlap, and
a pull costs about the slower of the two rather than their sum.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from api.exchange.page import (
    FEED_QUERY,
    FeedPageData,
    FeedSanctionData,
    PageMalformed,
    parse_page,
)
from api.exchange.signing import PublicKey, SignatureRefused, verify
from domain.errors import Conflict, CreditLinkError
from domain.time import utc_now
from graph_model.driver import Graph
from graph_model.exchange import status
from graph_model.exchange.apply import Incoming, apply_events
from rules.models import Catalogue

log = logging.getLogger("creditlink.exchange")

DEFAULT_PAGE = 500
REQUEST_TIMEOUT_S = 30.0


class PullError(Exception):
    """A pull that stopped; the message says where and why. Nothing of the failing page was
    applied."""


@dataclass(frozen=True)
class Partner:
    jurisdiction: str
    url: str
    key: str = field(repr=False)
    public_keys: tuple[PublicKey, ...]


@dataclass
class PullReport:
    pages: int = 0
    events: int = 0
    applied: int = 0
    kept_aside: int = 0
    registered: int = 0
    seconds: float = 0.0

    def add(self, other: PullReport) -> None:
        for f in dataclasses.fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


async def fetch_page(
    client: httpx.AsyncClient, partner: Partner, after: str | None, first: int
) -> FeedPageData:
    """One verified page of `partner`'s feed after `after`; raises `PullError`."""
    try:
        response = await client.post(
            partner.url,
            json={"query": FEED_QUERY, "variables": {"after": after, "first": first}},
            headers={"Authorization": f"Bearer {partner.key}"},
        )
    except httpx.HTTPError as exc:
        raise PullError(f"{partner.url}: {type(exc).__name__}: {exc}") from None
    if response.status_code != 200:
        raise PullError(f"{partner.url}: HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        raise PullError(f"{partner.url}: the answer is not JSON") from None
    errors = body.get("errors") if isinstance(body, dict) else None
    if errors:
        first_error = errors[0] if isinstance(errors[0], dict) else {}
        code = (first_error.get("extensions") or {}).get("code", "?")
        raise PullError(f"{partner.url}: {code}: {str(first_error.get('message'))[:300]}")
    try:
        page, key_id, signature = parse_page((body.get("data") or {}).get("sanctionFeed"), after)
    except PageMalformed as exc:
        raise PullError(f"{partner.url}: page refused: {exc}") from None
    if page.jurisdiction != partner.jurisdiction:
        raise PullError(
            f"{partner.url}: page refused: the feed is {page.jurisdiction!r}'s, "
            f"not {partner.jurisdiction!r}'s"
        )
    try:
        verify(page.signed_bytes(), signature, key_id, partner.public_keys)
    except SignatureRefused as exc:
        raise PullError(f"{partner.url}: page refused, nothing applied: {exc}") from None
    return page


# the entry's fields by name: a shallow copy of them is all `apply` needs (its values are
# strings, dates and instants), where `dataclasses.asdict` deep-copies each one
_SANCTION_FIELDS = tuple(f.name for f in dataclasses.fields(FeedSanctionData))


def _incoming(page: FeedPageData) -> list[Incoming]:
    return [
        Incoming(e.id, e.kind, e.at, {name: getattr(e.sanction, name) for name in _SANCTION_FIELDS})
        for e in page.events
    ]


async def pull(
    graph: Graph,
    catalogue: Catalogue,
    partner: Partner,
    *,
    client: httpx.AsyncClient,
    page_size: int = DEFAULT_PAGE,
    on_page: Callable[[PullReport], None] | None = None,
) -> PullReport:
    """Everything new in `partner`'s feed, applied; the pull's outcome is recorded."""
    started = time.perf_counter()
    report = PullReport()

    def timed(report: PullReport) -> None:
        report.seconds = time.perf_counter() - started
        if on_page is not None:
            on_page(report)

    try:
        await _pull(graph, catalogue, partner, client, page_size, report, timed)
    except PullError as exc:
        await status.record_pull(
            graph, partner.jurisdiction, url=partner.url, error=str(exc), at=utc_now()
        )
        raise
    report.seconds = time.perf_counter() - started
    await status.record_pull(graph, partner.jurisdiction, url=partner.url, error=None, at=utc_now())
    return report


async def _pull(
    graph: Graph,
    catalogue: Catalogue,
    partner: Partner,
    client: httpx.AsyncClient,
    page_size: int,
    report: PullReport,
    on_page: Callable[[PullReport], None] | None,
) -> None:
    after = await status.position(graph, partner.jurisdiction)
    page = await fetch_page(client, partner, after, page_size)
    while True:
        following: asyncio.Task[FeedPageData] | None = None
        if page.has_more:
            following = asyncio.create_task(fetch_page(client, partner, page.cursor, page_size))
        try:
            done = await apply_events(
                graph,
                catalogue,
                partner.jurisdiction,
                _incoming(page),
                cursor=(after, page.cursor),
                url=partner.url,
            )
        except Conflict:
            # another pull of this partner moved the position: go on from where it is
            if following is not None:
                following.cancel()
            after = await status.position(graph, partner.jurisdiction)
            page = await fetch_page(client, partner, after, page_size)
            continue
        except BaseException:
            if following is not None:
                following.cancel()
            raise
        step = PullReport(1, len(page.events), done.applied, len(done.kept_aside), done.registered)
        report.add(step)
        if on_page is not None:
            on_page(report)
        if following is None:
            return
        after, page = page.cursor, await following


async def follow(
    graph: Graph,
    catalogue: Catalogue,
    partner: Partner,
    *,
    client: httpx.AsyncClient,
    interval_s: float,
    max_backoff_s: float = 300.0,
    page_size: int = DEFAULT_PAGE,
    stop: asyncio.Event,
    on_pull: Callable[[PullReport | Exception], None] | None = None,
) -> None:
    """Pull every `interval_s` until `stop` is set; a failure (the partner down, Neo4j
    away, a refused page) is reported and retried with a growing, jittered delay."""
    delay = interval_s
    while not stop.is_set():
        try:
            outcome: PullReport | Exception = await pull(
                graph, catalogue, partner, client=client, page_size=page_size
            )
            delay = interval_s
        except (PullError, CreditLinkError) as exc:
            outcome = exc
            delay = min(max(delay, 1.0) * 2, max_backoff_s)
        if on_pull is not None:
            on_pull(outcome)
        wait = delay * (0.8 + 0.4 * random.random()) if isinstance(outcome, Exception) else delay
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), wait)


def describe(report: PullReport | Any) -> str:
    if not isinstance(report, PullReport):
        return f"pull failed: {report}"
    rate = report.events / report.seconds if report.seconds else 0.0
    return (
        f"{report.events:,} events in {report.pages} pages: {report.applied:,} applied, "
        f"{report.kept_aside:,} kept aside, {report.registered:,} subjects registered "
        f"({report.seconds:.1f} s, {rate:,.0f} events/s)"
    )
