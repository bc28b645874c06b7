"""Middleware given to the app factory wraps every HTTP request, GraphQL's included.

`create_app(middleware=[...])` adds to the app's Starlette stack, and `POST /graphql`
and `GET /graphql` go through that stack like every other path: there is no side door
around it. The real app under uvicorn, over real HTTP, with a witness middleware that
records what it sees and marks the responses it passes on.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import api.app
from api.logging_setup import current_request_id
from tests.conftest import Neo4jServer, api_settings, run_app
from tests.integration.helpers import enterprise_id

CHECK = (
    "query($id: ID!, $area: ApplicationArea!) { jointSanctionCheck(subjectId: $id, "
    "area: $area) { subjectKnown decision } }"
)


class Witness:
    """Records (method, path, the request id bound meanwhile) of every HTTP request and
    adds `x-witness` to its response."""

    def __init__(self, app: ASGIApp, seen: list[tuple[str, str, str | None]]) -> None:
        self.app = app
        self.seen = seen

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.seen.append((scope["method"], scope["path"], current_request_id()))

        async def marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("x-witness", "seen")
            await send(message)

        await self.app(scope, receive, marked)


SEEN: list[tuple[str, str, str | None]] = []
_serial = itertools.count(1)


@pytest.fixture(scope="module")
def witnessed(neo4j_server: Neo4jServer, keys_file: Path) -> Iterator[httpx.Client]:
    """The app built with the witness in its factory's middleware list."""
    factory = functools.partial(api.app.create_app, middleware=[Middleware(Witness, seen=SEEN)])
    settings = api_settings(neo4j_server, keys_file)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(api.app, "create_app", factory)  # run_app builds the app through it
        with run_app(settings), httpx.Client(base_url=f"http://127.0.0.1:{settings.port}") as c:
            yield c


def _sent(client: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """The response to one request sent with a fresh X-Request-Id, which the witness must
    have seen (bound by the request-id middleware outside it) and marked."""
    SEEN.clear()
    request_id = f"witness-{next(_serial)}"
    headers = {"x-request-id": request_id, **kwargs.pop("headers", {})}
    response = client.request(method, path, headers=headers, timeout=30, **kwargs)
    assert [(method, path, request_id)] == SEEN, f"{method} {path}: the middleware saw {SEEN}"
    assert response.headers.get("x-witness") == "seen"
    assert response.headers["x-request-id"] == request_id
    return response


def test_factory_middleware_sees_graphql_over_post(witnessed: httpx.Client) -> None:
    variables = {"id": enterprise_id(), "area": "SOCIAL_GOVERNANCE"}  # valid, unknown
    response = _sent(
        witnessed,
        "POST",
        "/graphql",
        json={"query": CHECK, "variables": variables},
        headers={"authorization": "Bearer approval-key"},
    )
    assert response.status_code == 200
    assert response.json() == {
        "data": {"jointSanctionCheck": {"subjectKnown": False, "decision": "CLEAR"}}
    }


def test_factory_middleware_sees_graphql_over_get(witnessed: httpx.Client) -> None:
    response = _sent(witnessed, "GET", "/graphql", params={"query": "{ departments { id } }"})
    assert response.status_code == 200
    assert response.json()["data"]["departments"]


def test_factory_middleware_sees_refused_graphql_requests(witnessed: httpx.Client) -> None:
    response = _sent(witnessed, "POST", "/graphql", content=b"not json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_factory_middleware_sees_other_paths(witnessed: httpx.Client) -> None:
    assert _sent(witnessed, "GET", "/healthz").json() == {"status": "ok"}
