"""The regulator's console at /console: the front-end bundle built from `console/`.

`make console` (a prerequisite of `make run` and `make test`) builds it with Vite into
`api/static/console/` (git-ignored): `index.html` and content-hashed files in `assets/`.
The page talks to nothing but this server's `POST /graphql`, with the API key the user
pastes in; the Content-Security-Policy below keeps it that way. Without a bundle the
page says how to build one instead of failing.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from api.static_files import asset_route, missing_bundle_html, security_headers

BUNDLE_DIR = Path(__file__).resolve().parent / "static" / "console"

# cytoscape.js inserts one <style> of its own: `.__________cytoscape_container { position:
# relative; }`; its hash lets exactly that through (the page's CSS sets the same anyway).
_CYTOSCAPE_STYLE = "'sha256-pgvDUBa4IjFA2yuSJ2cqcyxmNYJMborsd0ORcRv9vw8='"
# Everything the page loads comes from this origin; it connects only to /graphql here.
CONTENT_SECURITY_POLICY = (
    f"default-src 'self'; script-src 'self'; style-src 'self' {_CYTOSCAPE_STYLE}; "
    "img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
_SECURITY_HEADERS = security_headers(CONTENT_SECURITY_POLICY)

MISSING_BUNDLE_HTML = missing_bundle_html(
    title="CreditLink console",
    heading="控制台尚未构建 · The console is not built",
    what="console",
    folder="api/static/console/",
    api='<a href="/graphql">/graphql</a>',
)


def console_routes(bundle_dir: Path = BUNDLE_DIR) -> list[BaseRoute]:
    """`/console` (and `/console/`) serve the page; `/console/assets/<file>` its assets."""

    async def index(request: Request) -> Response:
        page = bundle_dir / "index.html"
        if not page.is_file():
            return HTMLResponse(
                MISSING_BUNDLE_HTML,
                status_code=503,
                headers={"Cache-Control": "no-store", "Retry-After": "60"},
            )
        return FileResponse(
            page,
            media_type="text/html; charset=utf-8",
            headers={"Cache-Control": "no-cache", **_SECURITY_HEADERS},
        )

    return [
        Route("/console", index, methods=["GET", "HEAD"]),
        Route("/console/", index, methods=["GET", "HEAD"]),
        asset_route(
            "/console/assets", bundle_dir / "assets", {"X-Content-Type-Options": "nosniff"}
        ),
    ]
