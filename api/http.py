"""GraphQL over HTTP: parse, authenticate, execute, encode. No Cypher, no schema here."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

import orjson
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from strawberry.http.ides import get_graphql_ide_html
from strawberry.types.graphql import OperationType

from api.context import AppState, Context
from graph_model.errors import CreditLinkError

log = logging.getLogger("creditlink.http")

QUERY_ONLY = frozenset({OperationType.QUERY})
QUERY_AND_MUTATION = frozenset({OperationType.QUERY, OperationType.MUTATION})


def json_response(payload: Any, status: int = 200, request_id: str | None = None) -> Response:
    headers = {"x-request-id": request_id} if request_id else None
    return Response(
        orjson.dumps(payload), status_code=status, media_type="application/json", headers=headers
    )


def error_payload(error: CreditLinkError) -> dict[str, Any]:
    return {
        "data": None,
        "errors": [{"message": error.message, "extensions": {"code": error.code.value}}],
    }


def _bad_request(message: str, request_id: str) -> Response:
    body = {"errors": [{"message": message, "extensions": {"code": "BAD_USER_INPUT"}}]}
    return json_response(body, 400, request_id)


def _wants_ide(request: Request) -> bool:
    return "query" not in request.query_params and "text/html" in request.headers.get("accept", "")


async def _read_operation(
    request: Request, state: AppState, request_id: str
) -> dict[str, Any] | Response:
    if request.method == "GET":
        params = request.query_params
        try:
            variables = orjson.loads(params["variables"]) if params.get("variables") else None
        except orjson.JSONDecodeError:
            return _bad_request("variables: not valid JSON", request_id)
        return {
            "query": params.get("query"),
            "variables": variables,
            "operationName": params.get("operationName"),
        }
    declared = request.headers.get("content-length")
    limit = state.settings.max_body_bytes
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return json_response(
            {
                "errors": [
                    {
                        "message": f"request body over {limit} bytes",
                        "extensions": {"code": "QUERY_TOO_COMPLEX"},
                    }
                ]
            },
            413,
            request_id,
        )
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            return json_response(
                {
                    "errors": [
                        {
                            "message": f"request body over {limit} bytes",
                            "extensions": {"code": "QUERY_TOO_COMPLEX"},
                        }
                    ]
                },
                413,
                request_id,
            )
    try:
        payload = orjson.loads(bytes(body))
    except orjson.JSONDecodeError:
        return _bad_request("the request body is not valid JSON", request_id)
    if not isinstance(payload, dict):
        return _bad_request("the request body must be a JSON object with a 'query'", request_id)
    return payload


async def graphql_endpoint(request: Request) -> Response:
    state: AppState = request.app.state.creditlink
    schema = request.app.state.schema
    request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
    if request.method == "GET" and _wants_ide(request):
        if not state.settings.graphiql:
            return Response("GraphiQL is disabled", status_code=404)
        return HTMLResponse(get_graphql_ide_html(graphql_ide="graphiql"))

    started = time.perf_counter()
    operation = await _read_operation(request, state, request_id)
    if isinstance(operation, Response):
        return operation
    query = operation.get("query")
    variables = operation.get("variables")
    operation_name = operation.get("operationName")
    if not isinstance(query, str) or not query.strip():
        return _bad_request("'query' must be a non-empty string", request_id)
    if variables is not None and not isinstance(variables, dict):
        return _bad_request("'variables' must be a JSON object", request_id)
    if operation_name is not None and not isinstance(operation_name, str):
        return _bad_request("'operationName' must be a string", request_id)

    try:
        principal = state.keys.authenticate(request.headers.get("authorization"))
    except CreditLinkError as exc:
        state.metrics.errors.labels(exc.code.value).inc()
        return json_response(error_payload(exc), 200, request_id)

    context = Context(state=state, principal=principal, request_id=request_id)
    result = await schema.execute(
        query,
        variable_values=variables,
        context_value=context,
        operation_name=operation_name,
        allowed_operation_types=QUERY_ONLY if request.method == "GET" else QUERY_AND_MUTATION,
    )
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
    elapsed = time.perf_counter() - started
    name = operation_name or _root_names(result.data)
    state.metrics.operation_latency.labels(name).observe(elapsed)
    log.info(
        "graphql",
        extra={
            "request_id": request_id,
            "operation": name,
            "role": principal.role.value,
            "key": principal.name,
            "duration_ms": round(elapsed * 1000, 2),
            "error_codes": codes,
        },
    )
    return json_response(payload, 200, request_id)


def _root_names(data: dict[str, Any] | None) -> str:
    if not data:
        return "anonymous"
    return ",".join(sorted(data))[:80]


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
