"""The ASGI app factory. Its lifespan owns the one AsyncDriver of the process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute

from api.analytics import AnalyticsPool
from api.auth import DemoKey, KeyRing, write_demo_keys
from api.console import console_routes
from api.context import AppState
from api.draining import log_drained
from api.event_tail import EventTailer
from api.events import EventBroker
from api.exchange.signing import load_signing_key
from api.graphiql import graphiql_routes
from api.http import RequestIdMiddleware, graphql_endpoint, json_response
from api.instance import instance_catalogue
from api.keys_watch import KeyFileWatcher
from api.metrics import Metrics
from api.schema import build_schema
from api.settings import Settings
from api.websocket import websocket_endpoint
from domain.errors import CreditLinkError
from domain.time import utc_now
from graph_model import event_log, migrations
from graph_model.access_records import AccessRecorder
from graph_model.catalogue_sync import sync_departments
from graph_model.check_records import CheckRecorder
from graph_model.checks import CheckEngine
from graph_model.driver import Graph, create_driver
from graph_model.impact import ImpactEngine
from graph_model.journal import Journal
from rules.models import Catalogue

log = logging.getLogger("creditlink.app")


def ensure_demo_keys(settings: Settings, catalogue: Catalogue | None = None) -> list[DemoKey]:
    """With no keys file configured and none in the data dir, generate the demo keys, with
    departments of `catalogue` (default: the instance's); returns those generated (none
    otherwise). Only their location is logged, never the keys."""
    path = settings.keys_file
    if settings.api_keys_file is not None or path.exists():
        return []
    if catalogue is None:
        catalogue = instance_catalogue(settings)
    try:
        generated = write_demo_keys(path, settings.demo_keys_text_file, catalogue)
    except FileExistsError:
        return []  # another process on this data dir made them first
    log.info(
        "generated demo API keys",
        extra={"path": str(path), "keys_text": str(settings.demo_keys_text_file)},
    )
    return generated


def load_keyring(
    settings: Settings, departments: set[str], catalogue: Catalogue | None = None
) -> KeyFileWatcher:
    """The keys in force and their watcher; a file that cannot be used raises KeysFileError.
    Demo keys, when generated, take their departments from `catalogue`."""
    ensure_demo_keys(settings, catalogue)
    watcher = KeyFileWatcher(
        settings.keys_file, departments, allow_plaintext=settings.allow_plaintext_keys
    )
    watcher.load()
    return watcher


async def _prepare_database(state: AppState) -> None:
    """Migrations and the catalogue's departments; retried until Neo4j answers."""
    delay = 0.5
    while True:
        try:
            await migrations.apply_migrations(
                state.graph, progress=lambda waiting: _report_indexes(state, waiting)
            )
            await sync_departments(state.graph, state.catalogue)
            # entries the bulk loaders wrote have their events logged, so the feed has them
            await event_log.log_unlogged(state.graph, state.catalogue.local_jurisdiction.id)
            # what a process that died left in its journal, written before this one is ready
            await state.recorder.recover()
            await state.access.recover()
            # ready means fast: the first real checks must not pay for query planning
            await _warm_up(state)
            state.ready_reason = None
            return
        except CreditLinkError as exc:
            state.ready_reason = f"neo4j: {exc.message}"
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


def _report_indexes(state: AppState, waiting: list[dict[str, Any]]) -> None:
    populating = ", ".join(f"{row['name']} {row['populationPercent'] or 0:.0f}%" for row in waiting)
    state.ready_reason = f"indexes populating: {populating}"


async def _warm_up(state: AppState) -> None:
    """Plan the single-subject check of every area once, so the first real check does not pay.

    Neo4j plans again per size bucket of the id list; single checks are the common case.
    """
    started = time.perf_counter()
    now = utc_now()
    for area in state.catalogue.areas:
        await state.checks.check_many(state.graph, ["WARM-UP"], area, now)
    log.info("query plans warmed", extra={"seconds": round(time.perf_counter() - started, 3)})


def _journal(settings: Settings, name: str) -> Journal:
    return Journal(settings.data_dir / "journal", name)


def create_app(
    settings: Settings | None = None, *, middleware: Sequence[Middleware] = ()
) -> Starlette:
    """The app. `middleware` wraps every HTTP and WebSocket request, /graphql's included,
    inside the request-id middleware (so its log lines carry the request's id)."""
    settings = settings or Settings.from_env()
    # refuses to start on a catalogue with errors, or on another jurisdiction's
    catalogue = instance_catalogue(settings)
    keys_watcher = load_keyring(settings, set(catalogue.departments), catalogue)
    schema = build_schema(settings)
    signing_key = load_signing_key(
        settings.signing_key_path, create=settings.signing_key_file is None
    )
    holder: dict[str, AppState] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        metrics = Metrics()
        driver = create_driver(settings.bolt_uri, *settings.neo4j_auth())
        graph = Graph(
            driver,
            settings.neo4j_database,
            observe=metrics.observe_query,
            query_timeout=settings.neo4j_query_timeout_s,
        )
        bounds: dict[str, Any] = {
            "capacity": settings.records_max_pending,
            "max_outage": settings.records_max_outage_s,
        }
        journals = settings.record_journal and settings.record_checks
        state = AppState(
            settings=settings,
            graph=graph,
            catalogue=catalogue,
            keys=keys_watcher.keys,
            keys_watcher=keys_watcher,
            metrics=metrics,
            events=EventBroker(),
            checks=CheckEngine(catalogue),
            impact=ImpactEngine(catalogue),
            recorder=CheckRecorder(
                graph, journal=_journal(settings, "checkRecords") if journals else None, **bounds
            ),
            access=AccessRecorder(
                graph, journal=_journal(settings, "accessRecords") if journals else None, **bounds
            ),
            analytics=AnalyticsPool(settings.analytics_workers, settings.analytics_timeout_s),
            signing_key=signing_key,
        )
        state.recorder.enabled = settings.record_checks
        metrics.watch_records(state.recorder)
        metrics.watch_access_records(state.access)
        unwatch_gc = metrics.watch_gc()
        metrics.start()  # with several workers, refreshes this one's gauges
        state.recorder.start()
        state.access.start()
        tailer = EventTailer.of(state)
        tailer.start()
        # registered first: later callbacks (open WebSockets) already see the new keys
        unwatch_keys = keys_watcher.on_change(lambda ring: setattr(state, "keys", ring))
        revalidating: set[asyncio.Task[int]] = set()

        def revalidate_sockets(ring: KeyRing) -> None:
            task = asyncio.create_task(state.sockets.revalidate(ring.still_valid))
            revalidating.add(task)
            task.add_done_callback(revalidating.discard)

        unwatch_sockets = keys_watcher.on_change(revalidate_sockets)
        keys_watcher.start()
        holder["state"] = state
        app.state.creditlink = state
        app.state.schema = schema
        preparing = asyncio.create_task(_prepare_database(state))
        try:
            yield
        finally:
            preparing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await preparing
            await tailer.stop()
            # what the buffers hold once the connections are drained is written by `stop`
            held = {"check_records": state.recorder.pending, "access_records": state.access.pending}
            await state.recorder.stop()
            await state.access.stop()
            left = {"check_records": state.recorder.pending, "access_records": state.access.pending}
            log_drained(app, {k: held[k] - left[k] for k in held}, sum(left.values()))
            if state.analytics is not None:
                await state.analytics.close()
            await driver.close()
            unwatch_gc()
            await metrics.stop()
            await keys_watcher.stop()
            unwatch_keys()
            unwatch_sockets()

    async def healthz(request: Request) -> Response:
        return json_response({"status": "ok"})

    async def readyz(request: Request) -> Response:
        state: AppState = request.app.state.creditlink
        try:
            await state.graph.ping()
        except CreditLinkError as exc:
            reason = f"neo4j is unreachable: {exc.message}"
            return json_response({"status": "unavailable", "reason": reason}, 503)
        try:
            pending = await migrations.pending(state.graph)
        except CreditLinkError as exc:
            return json_response({"status": "unavailable", "reason": exc.message}, 503)
        if pending:
            versions = ", ".join(str(m.version) for m in pending)
            return json_response(
                {"status": "unavailable", "reason": f"migrations pending: {versions}"}, 503
            )
        if state.ready_reason is not None:
            return json_response({"status": "unavailable", "reason": state.ready_reason}, 503)
        blocked = state.recorder.blocked or state.access.blocked
        if blocked is not None:
            reason = f"refusing what must be recorded: {blocked}"
            return json_response({"status": "unavailable", "reason": reason}, 503)
        return json_response({"status": "ready"})

    async def metrics_endpoint(request: Request) -> Response:
        state: AppState = request.app.state.creditlink
        return Response(state.metrics.render(), media_type="text/plain; version=0.0.4")

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
        Route("/graphql", graphql_endpoint, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", websocket_endpoint(schema, settings, lambda: holder["state"])),
        *console_routes(),
        *graphiql_routes(enabled=settings.graphiql),
    ]
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(RequestIdMiddleware), *middleware],
    )
