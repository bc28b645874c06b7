"""Each API process follows the sanction event log and hands its events to its subscribers.

Sanction mutations write their event in the change's own transaction
(`graph_model.event_log`); nothing publishes directly. The `EventTailer` of every process
reads the log every `CREDITLINK_EVENT_POLL_MS` for the events after the last `seq` it handed
on, in `seq` order, computes whom each sanction reaches (once per event, only while the
process has subscribers) and publishes it to the process's `EventBroker`. A subscriber so
hears a change made through any process over the same Neo4j, its own included, by one path
and in commit order.

Neo4j being away stops nothing: the tailer logs it once, keeps its position and reads again
with a growing delay; the events committed meanwhile follow when it answers again.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from api.events import EventBroker, Reach, SanctionEvent, reach_of
from api.logging_setup import REQUEST_ID
from domain.errors import CreditLinkError
from domain.time import city_date, utc_now
from graph_model import event_log
from graph_model.driver import Graph

if TYPE_CHECKING:
    from api.context import AppState

log = logging.getLogger("creditlink.events")

ReachOf = Callable[[dict[str, Any]], Awaitable[Reach]]

# events read at once; a full page is followed by the next at once, not after a poll
PAGE = 500
# the request id the tailer's log lines carry
TAIL_REQUEST_ID = "event-tail"
MAX_BACKOFF_S = 5.0
STOP_GRACE_S = 5.0


class EventTailer:
    def __init__(
        self,
        graph: Graph,
        broker: EventBroker,
        reach: ReachOf,
        *,
        poll_s: float,
        warm_up: Callable[[], Awaitable[None]] | None = None,
        max_backoff_s: float = MAX_BACKOFF_S,
        page: int = PAGE,
    ) -> None:
        self.graph = graph
        self.broker = broker
        self.reach = reach
        self.warm_up = warm_up
        self.poll_s = poll_s
        self.max_backoff_s = max(max_backoff_s, poll_s)
        self.page = page
        # the last seq handed on, of the log `log_id`; None until the log's head is read
        self.position: int | None = None
        self.log_id: str | None = None
        self._gap: int | None = None  # a seq found missing once, looked for once more
        self._failures = 0
        self._task: asyncio.Task[None] | None = None
        self._warming: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    @classmethod
    def of(cls, state: AppState) -> EventTailer:
        """The tailer of an app: its graph, broker and impact engine, its poll interval."""

        async def reach(sanction: dict[str, Any]) -> Reach:
            return await reach_of(state.graph, state.impact, sanction)

        # its polls, several a second whatever the traffic, stay out of the query metrics,
        # which count the work requests cause (the reach computed per event is counted)
        polls = dataclasses.replace(state.graph, observe=None)

        async def warm_up() -> None:
            # planning a list type's impact query takes Neo4j a second or more the first
            # time, which would hold up the first event of that list type
            await event_log.tail(polls, 0, 0)
            now = utc_now()
            for list_type in state.catalogue.list_types:
                await state.impact.impact(
                    polls,
                    list_type=list_type,
                    subject_id="WARM-UP",
                    decided_on=city_date(now),
                    named=[],
                    at=now,
                )

        return cls(
            polls,
            state.events,
            reach,
            poll_s=state.settings.event_poll_ms / 1000,
            warm_up=warm_up,
        )

    def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="event-tail")

    async def stop(self, grace_s: float = STOP_GRACE_S) -> None:
        """Stop once the reads under way have ended (the driver is closed after this), or
        after `grace_s`."""
        tasks = [t for t in (self._task, self._warming) if t is not None]
        self._task = self._warming = None
        if not tasks:
            return
        self._stopping.set()
        _, late = await asyncio.wait(tasks, timeout=grace_s)
        for task in late:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        # its log lines (the driver's among them) say whose they are, as a request's do
        REQUEST_ID.set(TAIL_REQUEST_ID)
        delay = self.poll_s
        while not self._stopping.is_set():
            try:
                while await self.step() >= self.page and not self._stopping.is_set():
                    pass
                if self.warm_up is not None:
                    # beside the polls, which it must not hold up
                    self._warming = asyncio.create_task(self._warm_up(self.warm_up))
                    self.warm_up = None
            except Exception as exc:  # whatever it is, the app keeps serving and reads again
                self._failed(exc)
                delay = min(max(delay, 0.05) * 2, self.max_backoff_s)
            else:
                self._recovered()
                delay = self.poll_s
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)

    async def _warm_up(self, warm_up: Callable[[], Awaitable[None]]) -> None:
        """Plan once the queries handing on an event runs."""
        started = time.perf_counter()
        try:
            await warm_up()
        except Exception as exc:  # only a head start: the events do not depend on it
            log.info("event query plans not warmed", extra={"error": str(exc)})
            return
        seconds = round(time.perf_counter() - started, 3)
        log.info("event query plans warmed", extra={"seconds": seconds})

    def _failed(self, exc: Exception) -> None:
        self._failures += 1
        if self._failures > 1:
            return
        if isinstance(exc, CreditLinkError):
            log.warning(
                "cannot read the sanction event log; retrying",
                extra={"error": exc.message, "position": self.position},
            )
        else:
            log.exception("reading the sanction event log failed; retrying")

    def _recovered(self) -> None:
        if self._failures:
            log.info(
                "reading the sanction event log again",
                extra={"failed_polls": self._failures, "position": self.position},
            )
            self._failures = 0

    async def step(self) -> int:
        """One poll: hand on the events after the position, in order; returns how many."""
        if self.position is None:
            head = await event_log.head(self.graph)
            self.log_id, self.position = head.log_id, head.seq
            return 0
        if self.broker.subscriber_count == 0:
            head = await event_log.head(self.graph)
            # counted after the read: a subscriber that came before the read is owed only what
            # follows `head.seq`; one that came while it ran is counted here, and read for below
            if self.broker.subscriber_count == 0:
                self.log_id, self.position, self._gap = head.log_id, head.seq, None
                return 0
        page = await event_log.tail(self.graph, self.position, self.page)
        if page.head.log_id != self.log_id:
            if self.log_id is not None:
                log.warning("the sanction event log was replaced; following the new one")
            # every event of a log made since the last read is new to this process
            self.log_id, self.position, self._gap = page.head.log_id, 0, None
            page = await event_log.tail(self.graph, 0, self.page)
        elif page.head.seq < self.position:
            log.warning(
                "the sanction event log is behind this process (a restored database?); "
                "following it from its last event",
                extra={"position": self.position, "log_seq": page.head.seq},
            )
            self.position, self._gap = page.head.seq, None
            return 0
        handed = 0
        for event in page.events:
            seq = int(event["seq"])
            expected = self.position + 1
            if seq != expected:
                if self._gap != expected:
                    # appends commit in seq order, so `expected` is committed: this read may
                    # have passed its place before the commit showed; the next one sees it
                    self._gap = expected
                    break
                log.warning(
                    "sanction events missing from the log; skipped",
                    extra={"from_seq": expected, "to_seq": seq - 1},
                )
            self._gap = None
            await self._hand_on(event)
            self.position = seq
            handed += 1
        return handed

    async def _hand_on(self, event: dict[str, Any]) -> None:
        sanction = event.get("sanction")
        if sanction is None or self.broker.subscriber_count == 0:
            return
        try:
            reach = await self.reach(sanction)
        except CreditLinkError:
            raise  # Neo4j away: this event is read again, with the rest, once it answers
        except Exception:
            # a fault of this event's own must not hold up every later one
            log.exception(
                "could not compute whom a sanction event reaches; not published",
                extra={"seq": event["seq"], "sanction_id": event["sanctionId"]},
            )
            return
        await self.broker.publish(
            SanctionEvent(
                kind=event["kind"],
                sanction_id=event["sanctionId"],
                at=event["at"],
                reach=reach,
                seq=int(event["seq"]),
            )
        )
