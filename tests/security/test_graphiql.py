"""Issue 18.5 and 19.7: GraphiQL is off in production, framed by no one, and served whole by
the app, so it loads nothing from another host (the browser side, that the key never
reaches the browser's storage and that a link prefills and runs nothing, is
tests/e2e/test_console.py::test_graphiql_end_to_end).

Real app over HTTP, real Neo4j; the bundle is the one `make console` builds.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.graphiql import BUNDLE_DIR, graphiql_page, graphiql_routes
from api.settings import Settings
from tests.bundles import write_bundle
from tests.conftest import ApiServer, Neo4jServer, api_settings, serving

pytestmark = pytest.mark.integration

HTML = {"accept": "text/html"}
# what loads code, styles or fonts from an absolute URL; URLs in licence comments, docs links
# and XML namespaces (`http://www.w3.org/2000/svg`) load nothing and are not matched
FOREIGN_LOAD = re.compile(
    r"unpkg\.com|jsdelivr|esm\.sh|cdnjs|skypack|fonts\.googleapis|fonts\.gstatic"
    r"|\bimport\s*\(\s*[\"'`]https?:"
    r"|\bimport\s+[^;\"'`]*?[\"'`]https?:"
    r"|\bimportScripts\s*\(\s*[\"'`]https?:"
    r"|\bnew\s+(?:Shared)?Worker\s*\(\s*[\"'`]https?:"
    r"|\bfetch\s*\(\s*[\"'`]https?:"
    r"|\bsrc\s*[=:]\s*[\"'`]https?:"
    r"|\burl\(\s*[\"']?https?:"
    r"|@import\s+(?:url\()?\s*[\"']?https?:"
)
# Vite's references between chunks: "./name-hash.js", "assets/name-hash.css", absolute paths
CHUNK_REF = re.compile(r"(?:\./|assets/)([A-Za-z0-9][A-Za-z0-9._-]*\.(?:js|css|ttf|woff2?))\b")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in {"src", "href"} and value and not value.startswith("data:"):
                self.urls.append(value)


@pytest.fixture(scope="module")
def ide_off(neo4j_server: Neo4jServer, keys_file: Path) -> Iterator[ApiServer]:
    """A production deployment: no demo seed, CREDITLINK_GRAPHIQL not given."""
    graphiql = Settings.from_env({"CREDITLINK_SEED": "none"}).graphiql
    with serving(api_settings(neo4j_server, keys_file, graphiql=graphiql)) as server:
        yield server


def _page(api: ApiServer) -> httpx.Response:
    page = httpx.get(f"{api.url}/graphql", headers=HTML, timeout=30)
    assert page.status_code == 200, page.text  # 503 without a bundle: `make console`
    return page


def test_graphiql_is_on_with_the_demo_seed_only_unless_set() -> None:
    assert Settings.from_env({"CREDITLINK_SEED": "none"}).graphiql is False
    assert Settings.from_env({"CREDITLINK_SEED": "demo"}).graphiql is True
    assert Settings.from_env({}).graphiql is True  # demo is the default seed
    explicit = {"CREDITLINK_SEED": "none", "CREDITLINK_GRAPHIQL": "true"}
    assert Settings.from_env(explicit).graphiql is True
    explicit = {"CREDITLINK_SEED": "demo", "CREDITLINK_GRAPHIQL": "false"}
    assert Settings.from_env(explicit).graphiql is False


def test_the_ide_and_the_console_cannot_be_framed(api_server: ApiServer) -> None:
    page = _page(api_server)
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self';" in csp and "connect-src 'self';" in csp
    assert "object-src 'none'" in csp and "base-uri 'none'" in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "accept" in page.headers["vary"].lower()
    console = httpx.get(f"{api_server.url}/console", timeout=30)
    assert console.status_code == 200, console.text
    assert "frame-ancestors 'none'" in console.headers["content-security-policy"]


def test_the_ide_loads_nothing_from_another_host(api_server: ApiServer) -> None:
    page = _page(api_server)
    origin = urlsplit(api_server.url).netloc
    assert not FOREIGN_LOAD.search(page.text), page.text
    links = _Links()
    links.feed(page.text)
    assert links.urls, "the page references no script or stylesheet"
    # the page's own references, then every chunk, worker, stylesheet and font they name
    pending = [urljoin(f"{api_server.url}/graphql", u) for u in links.urls]
    fetched: dict[str, str] = {}
    while pending:
        url = pending.pop()
        if url in fetched:
            continue
        assert urlsplit(url).netloc == origin, url
        response = httpx.get(url, timeout=30)
        assert response.status_code == 200, url
        assert response.headers["x-content-type-options"] == "nosniff"
        fetched[url] = text = response.text if url.endswith((".js", ".css")) else ""
        found = FOREIGN_LOAD.search(text)
        assert found is None, (
            f"{url} loads from another host: {text[found.start() - 80 : found.end() + 80]}"
        )
        for name in CHUNK_REF.findall(text):
            pending.append(f"{api_server.url}/graphiql/assets/{name}")
    scripts = [u for u in fetched if u.endswith(".js")]
    assert any("worker" in u for u in scripts), "Monaco's workers are not served by the app"
    assert any(u.endswith(".css") for u in fetched)
    assert len(scripts) > 3, scripts


def test_off_by_default_without_the_demo_seed(ide_off: ApiServer) -> None:
    page = httpx.get(f"{ide_off.url}/graphql", headers=HTML, timeout=30)
    assert page.status_code == 404
    assert page.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    # nor its assets: the IDE is off, not hidden
    names = sorted(p.name for p in (BUNDLE_DIR / "assets").glob("*.js"))
    assert names, "no GraphiQL bundle: run `make console`"
    for name in names[:3]:
        assert httpx.get(f"{ide_off.url}/graphiql/assets/{name}", timeout=30).status_code == 404
    # the API itself is unchanged
    assert ide_off.post("{ __typename }") == {"data": {"__typename": "Query"}}


# ---- without a bundle, and bad asset names (no database) ---------------------------------


def _client(bundle: Path) -> httpx.AsyncClient:
    async def page(request: Request) -> Response:
        return graphiql_page(bundle)

    app = Starlette(routes=[Route("/ide", page), *graphiql_routes(enabled=True, bundle_dir=bundle)])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ide")


async def test_without_a_bundle_the_page_says_how_to_build_it(tmp_path: Path) -> None:
    async with _client(tmp_path / "nothing") as client:
        page = await client.get("/ide")
        assert page.status_code == 503
        assert "make console" in page.text
        assert (await client.get("/graphiql/assets/index.js")).status_code == 404


async def test_only_files_of_the_bundle_are_served(tmp_path: Path) -> None:
    write_bundle(tmp_path, "graphiql.html", "GraphiQL", "graphiql-abc123.js")
    async with _client(tmp_path) as client:
        asset = await client.get("/graphiql/assets/graphiql-abc123.js")
        assert asset.status_code == 200 and "javascript" in asset.headers["content-type"]
        # a worker runs under its own script's policy
        assert "frame-ancestors 'none'" in asset.headers["content-security-policy"]
        for bad in ("/graphiql/assets/..%2Fsecret.txt", "/graphiql/assets/missing.js"):
            assert (await client.get(bad)).status_code == 404
