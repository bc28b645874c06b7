"""GraphQL over WebSocket: subscriptions only, with the HTTP path's controls.

`WS /graphql` speaks graphql-transport-ws and carries subscriptions (`sanctionEvents`),
nothing else: queries and mutations are refused with a pointer to `POST /graphql`, so
there is one path for them and its controls (limits, log line, metrics) cannot be
bypassed. Every subscription gets what a request over HTTP gets: the argument-size
checks, one log line with its operation, role, key and error codes, and the operation
metrics. Connections are capped in total and per key; a connection that has not
authenticated with a key that may subscribe is closed at `connection_init`; and when
the keys file changes, every open connection whose key was revoked or changed role is
closed (`SocketRegistry.revalidate`).

Close codes (the protocol's own where it has one): 4401 no or unknown key, 4403 the
key may not subscribe, 4429 too many connections, 4408 no `connection_init` in time.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING, Any

from graphql import GraphQLFormattedError, OperationType
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    ErrorMessage,
    SubscribeMessage,
)

from api.auth import PUBLIC, Capability, Principal
from api.context import AppState, Context
from api.errors import ErrorCode
from api.http import INVALID_OPERATION, log_request, operation_label, root_fields
from api.limits import check_argument_sizes, select_operation
from api.logging_setup import current_request_id
from api.sockets import CLOSE_TOO_MANY, CLOSE_UNAUTHENTICATED
from domain.errors import Unauthenticated

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from api.schema import CreditLinkSchema
    from api.settings import Settings

CLOSE_FORBIDDEN = 4403


def _error(message: str, code: ErrorCode) -> list[GraphQLFormattedError]:
    return [{"message": message, "extensions": {"code": code.value}}]


class SubscriptionsOnly(BaseGraphQLTransportWSHandler[Context, None]):
    """strawberry's graphql-transport-ws handler with CreditLink's admission rules."""

    principal: Principal = PUBLIC
    counted: set[str]

    @property
    def state(self) -> AppState:
        return self.context.state

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        if self.connection_init_received or self.connection_timed_out:
            await super().handle_connection_init(message)  # the protocol's own answers
            return
        payload = message.get("payload") or {}
        principal = self.context.principal
        if isinstance(payload, dict):
            authorization = payload.get("Authorization") or payload.get("authorization")
            if isinstance(authorization, str) and authorization:
                try:
                    principal = self.state.keys.authenticate(authorization)
                except Unauthenticated:
                    await self.websocket.close(CLOSE_UNAUTHENTICATED, "unknown API key")
                    return
        if principal is PUBLIC:
            await self.websocket.close(
                CLOSE_UNAUTHENTICATED, "subscriptions need an API key (connection_init payload)"
            )
            return
        if not principal.can(Capability.CHECK):
            await self.websocket.close(
                CLOSE_FORBIDDEN, f"role {principal.role.value} may not subscribe"
            )
            return
        settings = self.state.settings
        sockets = self.state.sockets
        if sockets.per_key[principal.name] >= settings.max_ws_connections_per_key:
            await self.websocket.close(
                CLOSE_TOO_MANY,
                f"at most {settings.max_ws_connections_per_key} connections per key",
            )
            return
        self.context.principal = self.principal = principal
        self.counted = set()
        await super().handle_connection_init(message)
        if self.connection_acknowledged:
            sockets.add(self)

    async def shutdown(self) -> None:
        self.state.sockets.remove(self)
        await super().shutdown()

    def forget_id(self, id: str) -> None:
        self._uncount(id)
        super().forget_id(id)

    async def cleanup_operation(self, operation_id: str) -> None:
        self._uncount(operation_id)
        await super().cleanup_operation(operation_id)

    def _uncount(self, operation_id: str) -> None:
        if operation_id in getattr(self, "counted", ()):
            self.counted.discard(operation_id)
            self.state.sockets.subscriptions[self.principal.name] -= 1

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if not self.connection_acknowledged or message["id"] in self.operations:
            await super().handle_subscribe(message)  # the protocol's own closes
            return
        started = time.perf_counter()
        refusal = self._admit(message)
        state = self.state
        if refusal is not None:
            label, text, code = refusal
            state.metrics.errors.labels(code.value).inc()
            log_request(
                self._request_id(message),
                label,
                None,
                self.principal,
                started,
                [code.value],
                transport="ws",
            )
            await self.send_message(
                ErrorMessage(id=message["id"], type="error", payload=_error(text, code))
            )
            return
        self.counted.add(message["id"])
        state.sockets.subscriptions[self.principal.name] += 1
        await super().handle_subscribe(message)
        label = "sanctionEvents"
        state.metrics.operation_latency.labels(label).observe(time.perf_counter() - started)
        operation_name = message["payload"].get("operationName")
        log_request(
            self._request_id(message),
            label,
            operation_name if isinstance(operation_name, str) else None,
            self.principal,
            started,
            [],
            transport="ws",
        )

    def _request_id(self, message: SubscribeMessage) -> str:
        return f"{current_request_id() or 'ws'}:{str(message['id'])[:32]}"

    def _admit(self, message: SubscribeMessage) -> tuple[str, str, ErrorCode] | None:
        """(metric label, message, code) when the subscription is refused, else None."""
        payload = message.get("payload")
        if not isinstance(payload, dict):
            return INVALID_OPERATION, "payload: must be an object", ErrorCode.BAD_USER_INPUT
        query = payload.get("query")
        variables = payload.get("variables")
        name = payload.get("operationName")
        if not isinstance(query, str) or not query.strip():
            return INVALID_OPERATION, "'query' must be a non-empty string", ErrorCode.BAD_USER_INPUT
        if variables is not None and not isinstance(variables, dict):
            return INVALID_OPERATION, "'variables' must be a JSON object", ErrorCode.BAD_USER_INPUT
        if name is not None and not isinstance(name, str):
            return INVALID_OPERATION, "'operationName' must be a string", ErrorCode.BAD_USER_INPUT
        schema: CreditLinkSchema = self.schema  # type: ignore[assignment]
        document = schema.documents.parse_or_none(query)
        if document is None:
            return None  # strawberry answers a syntax error by closing with its reason
        operation = select_operation(document, name)
        if operation is None:
            return None  # strawberry names the missing or ambiguous operation
        label = operation_label(document, operation, root_fields(schema))
        if operation.operation is not OperationType.SUBSCRIPTION:
            return (
                label,
                f"{operation.operation.value}s are served over HTTP (POST /graphql); "
                "this WebSocket carries subscriptions only",
                ErrorCode.BAD_USER_INPUT,
            )
        settings = self.state.settings
        problem = check_argument_sizes(
            document, operation, variables, max_items=settings.max_batch, max_page=settings.max_page
        )
        if problem is not None:
            return label, problem, ErrorCode.BAD_USER_INPUT
        cap = self.max_subscriptions_per_connection
        if cap is not None and len(self.operations) >= cap:
            return label, f"at most {cap} subscriptions per connection", ErrorCode.QUERY_TOO_COMPLEX
        per_key = settings.max_subscriptions_per_key
        if self.state.sockets.subscriptions[self.principal.name] >= per_key:
            return label, f"at most {per_key} subscriptions per key", ErrorCode.QUERY_TOO_COMPLEX
        return None


class SubscriptionApp(GraphQL[Context, None]):
    """strawberry's ASGI app, for `WS /graphql` only."""

    graphql_transport_ws_handler_class = SubscriptionsOnly

    def __init__(self, state_getter: Callable[[], AppState], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._state_getter = state_getter

    async def get_context(self, request: Any, response: Any) -> Context:
        state = self._state_getter()
        header = request.headers.get("authorization") if hasattr(request, "headers") else None
        principal = state.keys.authenticate(header)
        return Context(state=state, principal=principal, request_id=current_request_id() or "ws")


def websocket_endpoint(
    schema: CreditLinkSchema, settings: Settings, state_getter: Callable[[], AppState]
) -> Callable[[WebSocket], Awaitable[None]]:
    """The `WS /graphql` route: the total cap and a key given in the headers are checked
    before the handshake; the rest once `connection_init` arrives."""
    subscriptions = SubscriptionApp(
        state_getter,
        schema=schema,
        graphql_ide=None,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
        connection_init_wait_timeout=dt.timedelta(seconds=settings.ws_init_timeout_seconds),
    )

    async def endpoint(websocket: WebSocket) -> None:
        state = state_getter()
        sockets = state.sockets
        if sockets.connected >= settings.max_ws_connections:
            state.metrics.errors.labels(ErrorCode.QUERY_TOO_COMPLEX.value).inc()
            await websocket.close(code=CLOSE_TOO_MANY, reason="too many connections")
            return
        try:
            state.keys.authenticate(websocket.headers.get("authorization"))
        except Unauthenticated:
            await websocket.close(code=CLOSE_UNAUTHENTICATED)
            return
        sockets.connected += 1
        try:
            await subscriptions(websocket.scope, websocket.receive, websocket.send)
        finally:
            sockets.connected -= 1

    return endpoint
