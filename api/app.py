"""The ASGI app factory. Its lifespan owns the one AsyncDriver of the process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from api.auth import KeyRing, load_keys, write_demo_keys
from api.console import console_routes
from api.context import AppState, Context
from api.events import EventBroker
from api.http import CreditLinkApp, RequestIdMiddleware, graphql_endpoint, json_response
from api.limits import LimitedTransportWSHandler
from api.logging_setup import current_request_id
from api.metrics import Metrics
from api.schema import build_schema
from api.settings import Settings
from graph_model import migrations
from graph_model.catalogue_sync import sync_departments
from graph_model.check_records import CheckRecorder
from graph_model.checks import CheckEngine
from graph_model.driver import Graph, create_driver
from graph_model.errors import CreditLinkError, Unauthenticated
from graph_model.impact import ImpactEngine
from graph_model.values import utc_now
from rules.loader import load_catalogue

log = logging.getLogger("creditlink.app")


def load_keyring(settings: Settings, departments: set[str]) -> KeyRing:
    path = settings.keys_file
    if settings.api_keys_file is None and not path.exists():
        write_demo_keys(path)
        log.info("generated demo API keys", extra={"path": str(path)})
    return load_keys(path, departments)


class SubscriptionApp(GraphQL[Context, None]):
    """Strawberry's ASGI app, used for WebSocket subscriptions only."""

    graphql_transport_ws_handler_class = LimitedTransportWSHandler

    def __init__(self, state_getter: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._state_getter = state_getter

    async def get_context(self, request: Any, response: Any) -> Context:
        state: AppState = self._state_getter()
        header = request.headers.get("authorization") if hasattr(request, "headers") else None
        principal = state.keys.authenticate(header)
        return Context(state=state, principal=principal, request_id=current_request_id() or "ws")

    async def on_ws_connect(self, context: Context) -> None:
        # browsers cannot set headers on a WebSocket: the key may come in connection_init
        params = context.connection_params or {}
        authorization = params.get("Authorization") or params.get("authorization")
        if isinstance(authorization, str) and authorization:
            try:
                context.principal = context.state.keys.authenticate(authorization)
            except Unauthenticated:
                raise ConnectionRejectionError({"code": "UNAUTHENTICATED"}) from None


async def _prepare_database(state: AppState) -> None:
    """Migrations and the catalogue's departments; retried until Neo4j answers."""
    delay = 0.5
    while True:
        try:
            await migrations.apply_migrations(
                state.graph, progress=lambda waiting: _report_indexes(state, waiting)
            )
            await sync_departments(state.graph, state.catalogue)
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


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    catalogue = load_catalogue()  # refuses to start on a catalogue with errors
    keys = load_keyring(settings, set(catalogue.departments))
    schema = build_schema(settings)
    holder: dict[str, AppState] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        metrics = Metrics()
        driver = create_driver(settings.bolt_uri, settings.neo4j_user, settings.neo4j_password)
        graph = Graph(driver, settings.neo4j_database, observe=metrics.observe_query)
        state = AppState(
            settings=settings,
            graph=graph,
            catalogue=catalogue,
            keys=keys,
            metrics=metrics,
            events=EventBroker(),
            checks=CheckEngine(catalogue),
            impact=ImpactEngine(catalogue),
            recorder=CheckRecorder(graph),
        )
        state.recorder.enabled = settings.record_checks
        metrics.watch_records(state.recorder)
        unwatch_gc = metrics.watch_gc()
        state.recorder.start()
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
            await state.recorder.stop()
            await driver.close()
            unwatch_gc()

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
        return json_response({"status": "ready"})

    async def metrics_endpoint(request: Request) -> Response:
        state: AppState = request.app.state.creditlink
        return Response(state.metrics.render(), media_type="text/plain; version=0.0.4")

    subscriptions = SubscriptionApp(
        lambda: holder["state"],
        schema=schema,
        graphql_ide=None,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
    )

    async def websocket_endpoint(websocket: WebSocket) -> None:
        try:
            holder["state"].keys.authenticate(websocket.headers.get("authorization"))
        except Unauthenticated:
            await websocket.close(code=4401)
            return
        await subscriptions(websocket.scope, websocket.receive, websocket.send)

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
        Route("/graphql", graphql_endpoint, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", websocket_endpoint),
        *console_routes(),
    ]
    return CreditLinkApp(
        routes=routes, lifespan=lifespan, middleware=[Middleware(RequestIdMiddleware)]
    )
