"""GraphQL over HTTP: parse, authenticate, execute, encode. No Cypher, no schema here.

Everything a caller sends is answered with JSON and one of the contract's codes: bad
requests with 400 (413 for an oversized body, 405 for a mutation over GET), GraphQL-level
errors with 200, and only a fault of our own with 500 (and then without details).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import orjson
from graphql import DocumentNode, GraphQLError, OperationDefinitionNode
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from api.context import AppState, Context
from api.errors import ErrorCode, code_of
from api.execution import Executed, execute_operation
from api.graphiql import graphiql_page
from api.limits import check_argument_sizes, root_field_names, select_operation
from api.logging_setup import REQUEST_ID, current_request_id
from domain.errors import CreditLinkError

log = logging.getLogger("creditlink.http")

QUERY_ONLY = frozenset({OperationType.QUERY})
QUERY_AND_MUTATION = frozenset({OperationType.QUERY, OperationType.MUTATION})

# a caller's X-Request-Id is echoed and logged only when it is short and plain
_REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# operation label for requests that name no known root field (bounded metric cardinality)
INVALID_OPERATION = "invalid"
MULTIPLE_OPERATIONS = "multiple"


def request_id_from(headers: Headers) -> str:
    given = headers.get("x-request-id")
    if given and _REQUEST_ID_PATTERN.fullmatch(given):
        return given
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Gives every HTTP request and WebSocket connection an id: the caller's X-Request-Id
    when it is plain, else a fresh one. It is echoed in the response's `x-request-id` and
    set in `api.logging_setup.REQUEST_ID`, so every log line of the request carries it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in {"http", "websocket"}:
            await self.app(scope, receive, send)
            return
        with _request_id_bound(scope) as request_id:

            async def send_with_id(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers = MutableHeaders(scope=message)
                    if "x-request-id" not in headers:
                        headers.append("x-request-id", request_id)
                await send(message)

            await self.app(scope, receive, send_with_id if scope["type"] == "http" else send)


@contextlib.contextmanager
def _request_id_bound(scope: Scope) -> Iterator[str]:
    """The request's id, set in `REQUEST_ID` for every log line logged meanwhile."""
    request_id = request_id_from(Headers(scope=scope))
    token = REQUEST_ID.set(request_id)
    try:
        yield request_id
    finally:
        REQUEST_ID.reset(token)


def json_response(
    payload: Any,
    status: int = 200,
    request_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    all_headers = dict(headers or {})
    if request_id:
        all_headers["x-request-id"] = request_id
    return Response(
        orjson.dumps(payload),
        status_code=status,
        media_type="application/json",
        headers=all_headers or None,
    )


def error_payload(error: CreditLinkError) -> dict[str, Any]:
    return {
        "data": None,
        "errors": [{"message": error.message, "extensions": {"code": code_of(error).value}}],
    }


def _error_body(message: str, code: ErrorCode) -> dict[str, Any]:
    return {"data": None, "errors": [{"message": message, "extensions": {"code": code.value}}]}


class _Rejected(Exception):
    """A request refused before execution: the response to send and the code to count."""

    def __init__(self, response: Response, code: ErrorCode) -> None:
        super().__init__(code.value)
        self.response = response
        self.code = code


def _reject(
    message: str,
    request_id: str,
    status: int = 400,
    code: ErrorCode = ErrorCode.BAD_USER_INPUT,
    headers: dict[str, str] | None = None,
) -> _Rejected:
    return _Rejected(json_response(_error_body(message, code), status, request_id, headers), code)


def _too_large(limit: int, request_id: str) -> _Rejected:
    return _reject(f"request body over {limit} bytes", request_id, 413, ErrorCode.QUERY_TOO_COMPLEX)


def _wants_ide(request: Request) -> bool:
    return "query" not in request.query_params and "text/html" in request.headers.get("accept", "")


async def _read_operation(request: Request, state: AppState, request_id: str) -> dict[str, Any]:
    if request.method == "GET":
        params = request.query_params
        try:
            variables = orjson.loads(params["variables"]) if params.get("variables") else None
        except orjson.JSONDecodeError:
            raise _reject("variables: not valid JSON", request_id) from None
        return {
            "query": params.get("query"),
            "variables": variables,
            "operationName": params.get("operationName"),
        }
    declared = request.headers.get("content-length")
    limit = state.settings.max_body_bytes
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit, request_id)
    body = await _read_body(request, limit, state.settings.body_timeout_s, request_id)
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise _reject("the request body is not valid JSON", request_id) from None
    if not isinstance(payload, dict):
        raise _reject("the request body must be a JSON object with a 'query'", request_id)
    return payload


async def _read_body(request: Request, limit: int, timeout: float, request_id: str) -> bytes:
    """The whole body, within `limit` bytes and `timeout` seconds in all: a client sending
    it a byte at a time would otherwise hold its connection and this task for ever."""
    body = bytearray()
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.stream():
                body.extend(chunk)
                if len(body) > limit:
                    raise _too_large(limit, request_id)
    except TimeoutError:
        raise _reject(
            f"the request body was not received within {timeout:g} s (CREDITLINK_BODY_TIMEOUT_S)",
            request_id,
            408,
            headers={"connection": "close"},  # the rest of the body is not waited for
        ) from None
    return bytes(body)


def operation_label(
    document: DocumentNode | None, operation: OperationDefinitionNode | None, known: frozenset[str]
) -> str:
    """The metric label of a request: its root field when it selects one known field,
    `multiple` for several, `invalid` otherwise. Never anything the caller names freely
    (operation names and aliases are), so the label set stays bounded."""
    if document is None or operation is None:
        return INVALID_OPERATION
    names = [n for n in root_field_names(document, operation) if n != "__typename"]
    if not names:
        return INVALID_OPERATION
    if any(n not in known for n in names):
        return INVALID_OPERATION
    return names[0] if len(names) == 1 else MULTIPLE_OPERATIONS


@functools.lru_cache(maxsize=8)
def root_fields(schema: Any) -> frozenset[str]:
    """The names of every root field: the metric labels an operation may have."""
    graphql_schema = schema._schema
    names: set[str] = set()
    roots = (
        graphql_schema.query_type,
        graphql_schema.mutation_type,
        graphql_schema.subscription_type,
    )
    for root in roots:
        if root is not None:
            names.update(root.fields)
    return frozenset(names)


async def graphql_endpoint(request: Request) -> Response:
    state: AppState = request.app.state.creditlink
    request_id = current_request_id() or request_id_from(request.headers)
    started = time.perf_counter()
    try:
        return await _serve(request, state, request_id, started)
    except _Rejected as rejected:
        state.metrics.errors.labels(rejected.code.value).inc()
        log_request(request_id, INVALID_OPERATION, None, None, started, [rejected.code.value])
        return rejected.response
    except Exception:
        # a fault of ours: logged with its traceback, answered without details
        log.exception("unhandled error serving /graphql")
        state.metrics.errors.labels(ErrorCode.INTERNAL_SERVER_ERROR.value).inc()
        return json_response(
            _error_body("internal error", ErrorCode.INTERNAL_SERVER_ERROR), 500, request_id
        )


async def _serve(request: Request, state: AppState, request_id: str, started: float) -> Response:
    schema = request.app.state.schema
    if request.method == "GET" and _wants_ide(request):
        if not state.settings.graphiql:
            return json_response(
                _error_body("GraphiQL is disabled", ErrorCode.NOT_FOUND), 404, request_id
            )
        return graphiql_page()

    operation = await _read_operation(request, state, request_id)
    query = operation.get("query")
    variables = operation.get("variables")
    operation_name = operation.get("operationName")
    if not isinstance(query, str) or not query.strip():
        raise _reject("'query' must be a non-empty string", request_id)
    if variables is not None and not isinstance(variables, dict):
        raise _reject("'variables' must be a JSON object", request_id)
    if operation_name is not None and not isinstance(operation_name, str):
        raise _reject("'operationName' must be a string", request_id)

    try:
        principal = state.keys.authenticate(request.headers.get("authorization"))
    except CreditLinkError as exc:
        code = code_of(exc).value
        state.metrics.errors.labels(code).inc()
        log_request(request_id, INVALID_OPERATION, None, None, started, [code])
        return json_response(error_payload(exc), 200, request_id)

    settings = state.settings
    document = schema.documents.parse_or_none(query)
    selected = select_operation(document, operation_name) if document is not None else None
    label = operation_label(document, selected, root_fields(schema))
    if document is not None and selected is None and operation_name is None:
        count = sum(isinstance(d, OperationDefinitionNode) for d in document.definitions)
        if count > 1:  # GraphQL's GetOperation: several operations need a name
            raise _reject(
                f"operationName: the document has {count} operations; name the one to run",
                request_id,
                200,
            )
    if document is not None and selected is not None:
        problem = check_argument_sizes(
            document,
            selected,
            variables,
            max_items=settings.max_batch,
            max_page=settings.max_page,
        )
        if problem is not None:
            raise _reject(problem, request_id, 200)

    context = Context(state=state, principal=principal, request_id=request_id)
    executed = await _execute(
        request, query, variables, operation_name, context, request_id, document, selected
    )
    if executed.compiled:
        state.metrics.compiled.labels(label).inc()
    result = executed.result
    try:
        # no answer leaves before the records it stands for would outlive this process
        await state.records_durable()
    except CreditLinkError as exc:
        code = code_of(exc).value
        state.metrics.errors.labels(code).inc()
        log_request(request_id, label, operation_name, principal, started, [code])
        return json_response(error_payload(exc), 200, request_id)

    payload: dict[str, Any] = {"data": result.data}
    codes: list[str] = []
    if result.errors:
        payload["errors"] = [_format(e) for e in result.errors]
        codes = [
            e.extensions.get("code", "INTERNAL_SERVER_ERROR")
            if e.extensions
            else "INTERNAL_SERVER_ERROR"
            for e in result.errors
        ]
        for code in codes:
            state.metrics.errors.labels(code).inc()
    state.metrics.operation_latency.labels(label).observe(time.perf_counter() - started)
    log_request(request_id, label, operation_name, principal, started, codes)
    return json_response(payload, 200, request_id)


async def _execute(
    request: Request,
    query: str,
    variables: dict[str, Any] | None,
    operation_name: str | None,
    context: Context,
    request_id: str,
    document: DocumentNode | None,
    selected: OperationDefinitionNode | None,
) -> Executed:
    """The request executed (`api.execution`), strawberry's refusals answered over HTTP."""
    try:
        return await execute_operation(
            request.app.state.schema,
            query,
            variables,
            operation_name,
            context,
            document=document,
            operation=selected,
            allowed=QUERY_ONLY if request.method == "GET" else QUERY_AND_MUTATION,
            compiled_queries=request.app.state.creditlink.settings.compiled_queries,
        )
    except InvalidOperationTypeError as exc:
        if exc.operation_type is OperationType.MUTATION:
            raise _reject(
                "mutations are not allowed over GET; send them with POST",
                request_id,
                405,
                headers={"allow": "POST"},
            ) from None
        raise _reject(
            "subscriptions are served over WebSocket (graphql-transport-ws) only",
            request_id,
            200,
        ) from None
    except CannotGetOperationTypeError:
        named = f" named {operation_name[:60]!r}" if operation_name else ""
        raise _reject(
            f"operationName: the document has no operation{named}"
            + ("" if operation_name else " (or several: name the one to run)"),
            request_id,
            200,
        ) from None
    except MissingQueryError:
        raise _reject("'query' must be a non-empty string", request_id) from None


def log_request(
    request_id: str,
    label: str,
    operation_name: str | None,
    principal: Any,
    started: float,
    codes: list[str],
    *,
    transport: str = "http",
) -> None:
    """One line per operation, over HTTP or WebSocket: what ran, for whom, how long, which
    error codes. Never variables or results, which hold personal data."""
    log.info(
        "graphql",
        extra={
            "request_id": request_id,
            "transport": transport,
            "operation": label,
            "operation_name": operation_name[:64] if operation_name else None,
            "role": principal.role.value if principal is not None else None,
            "key": principal.name if principal is not None else None,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            "error_codes": codes,
        },
    )


def _format(error: GraphQLError) -> dict[str, Any]:
    formatted: dict[str, Any] = {"message": error.message}
    if error.locations:
        formatted["locations"] = [
            {"line": loc.line, "column": loc.column} for loc in error.locations
        ]
    if error.path:
        formatted["path"] = error.path
    formatted["extensions"] = error.extensions or {"code": "INTERNAL_SERVER_ERROR"}
    return formatted
