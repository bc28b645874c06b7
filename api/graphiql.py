"""GraphiQL, bundled: the page `GET /graphql` answers to browsers, and its assets.

`make console` builds it from `console/graphiql.html` (the `graphiql` npm package, React and
Monaco's workers) into `api/static/graphiql/` (git-ignored), beside the console. Everything
the page loads comes from this server, so it works on a network with no CDN. The page
keeps request headers (API keys) in memory only and reads nothing from its URL
(`console/src/graphiql/`). `CREDITLINK_GRAPHIQL` switches it off, assets included.
"""

from __future__ import annotations

from pathlib import Path

from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute

from api.static_files import asset_route, missing_bundle_html, security_headers

BUNDLE_DIR = Path(__file__).resolve().parent / "static" / "graphiql"
PAGE = "graphiql.html"

# Scripts, workers, styles and fonts only from this origin; requests only to it. Monaco (the
# editor) writes `<style>` elements and `style="…"` attributes as it draws, with values that
# change at run time, so neither a hash nor a nonce can cover them: styles need
# 'unsafe-inline'. GraphiQL's stylesheets embed their fonts (Roboto, Fira Code, codicons) as
# data: URLs. Nothing here can make the browser reach another host.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; worker-src 'self'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
_SECURITY_HEADERS = security_headers(CONTENT_SECURITY_POLICY)

MISSING_BUNDLE_HTML = missing_bundle_html(
    title="GraphiQL",
    heading="GraphiQL 尚未构建 · GraphiQL is not built",
    what="GraphiQL",
    folder="api/static/graphiql/",
    api="<code>POST /graphql</code> answers as usual",
)


def graphiql_page(bundle_dir: Path = BUNDLE_DIR) -> Response:
    """The IDE page, or a page saying how to build it (503) when there is no bundle."""
    # GET /graphql answers JSON or this page by the Accept header: caches must keep both apart
    try:
        page = (bundle_dir / PAGE).read_bytes()
    except OSError:
        return HTMLResponse(
            MISSING_BUNDLE_HTML,
            status_code=503,
            headers={"Cache-Control": "no-store", "Retry-After": "60", "Vary": "Accept"},
        )
    return HTMLResponse(
        page, headers={"Cache-Control": "no-cache", "Vary": "Accept", **_SECURITY_HEADERS}
    )


def graphiql_routes(*, enabled: bool, bundle_dir: Path = BUNDLE_DIR) -> list[BaseRoute]:
    """`/graphiql/assets/<file>`: the page's scripts, workers, styles and fonts."""

    # A worker runs under the policy of its own script's response, hence the CSP here too.
    return [
        asset_route("/graphiql/assets", bundle_dir / "assets", _SECURITY_HEADERS, enabled=enabled)
    ]
