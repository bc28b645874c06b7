"""The regulator's console at /console: the front-end bundle built from `console/`.

`make console` (a prerequisite of `make run` and `make test`) builds it with Vite into
`api/static/console/` (git-ignored): `index.html` and content-hashed files in `assets/`.
The page talks to nothing but this server's `POST /graphql`, with the API key the user
pastes in; the Content-Security-Policy below keeps it that way. Without a bundle the
page says how to build one instead of failing.
"""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import BaseRoute, Route

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
_SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# Vite names assets `<name>-<hash>.<ext>` in one flat directory.
_ASSET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,200}")

MISSING_BUNDLE_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CreditLink console: not built</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;line-height:1.5}
code{background:#f1f3f5;padding:0 .3em}</style></head>
<body><h1>控制台尚未构建 · The console is not built</h1>
<p>This server has no console bundle in <code>api/static/console/</code>.
Build it with <code>make console</code> (it runs <code>npm ci</code> and
<code>npm run build</code> in <code>console/</code>; Node.js 20.19+ and npm are needed),
or simply use <code>make run</code>, which builds it first. Then reload this page.</p>
<p>The GraphQL API itself is unaffected: <a href="/graphql">/graphql</a>.</p>
</body></html>
"""


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

    async def asset(request: Request) -> Response:
        name = str(request.path_params["name"])
        path = bundle_dir / "assets" / name
        if not _ASSET_NAME.fullmatch(name) or ".." in name or not path.is_file():
            return Response("not found", status_code=404, media_type="text/plain")
        # content-hashed names never change meaning: cache them for good
        headers = {
            "Cache-Control": "public, max-age=31536000, immutable",
            "X-Content-Type-Options": "nosniff",
            "Vary": "Accept-Encoding",
        }
        packed = path.with_name(path.name + ".gz")  # written by the build beside the asset
        if "gzip" in request.headers.get("accept-encoding", "") and packed.is_file():
            media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            headers["Content-Encoding"] = "gzip"
            return FileResponse(packed, media_type=media_type, headers=headers)
        return FileResponse(path, headers=headers)

    return [
        Route("/console", index, methods=["GET", "HEAD"]),
        Route("/console/", index, methods=["GET", "HEAD"]),
        Route("/console/assets/{name}", asset, methods=["GET", "HEAD"]),
    ]
