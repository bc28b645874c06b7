"""GraphiQL, bundled: the page `GET /graphql` answers to browsers, and its assets.

`make console` builds it from `console/graphiql.html` (the `graphiql` npm package, React and
Monaco's workers) into `api/static/graphiql/` (git-ignored), beside the console. Everything
the page loads comes from this server, so it works on a network with no CDN. The page
keeps request headers (API keys) in memory only and reads nothing from its URL
(`console/src/graphiql/`). `CREDITLINK_GRAPHIQL` switches it off, assets included.
"""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import BaseRoute, Route

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
_SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# Vite names assets `<name>-<hash>.<ext>` in one flat directory.
_ASSET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,200}")

MISSING_BUNDLE_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>GraphiQL: not built</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;line-height:1.5}
code{background:#f1f3f5;padding:0 .3em}</style></head>
<body><h1>GraphiQL 尚未构建 · GraphiQL is not built</h1>
<p>This server has no GraphiQL bundle in <code>api/static/graphiql/</code>.
Build it with <code>make console</code> (it runs <code>npm ci</code> and
<code>npm run build</code> in <code>console/</code>; Node.js 20.19+ and npm are needed),
or simply use <code>make run</code>, which builds it first. Then reload this page.</p>
<p>The GraphQL API itself is unaffected: <code>POST /graphql</code> answers as usual.</p>
</body></html>
"""


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

    async def asset(request: Request) -> Response:
        name = str(request.path_params["name"])
        path = bundle_dir / "assets" / name
        if not enabled or not _ASSET_NAME.fullmatch(name) or ".." in name or not path.is_file():
            return Response("not found", status_code=404, media_type="text/plain")
        # content-hashed names never change meaning: cache them for good. A worker runs
        # under the policy of its own script's response, hence the CSP here too.
        headers = {
            "Cache-Control": "public, max-age=31536000, immutable",
            "Vary": "Accept-Encoding",
            **_SECURITY_HEADERS,
        }
        packed = path.with_name(path.name + ".gz")  # written by the build beside the asset
        if "gzip" in request.headers.get("accept-encoding", "") and packed.is_file():
            media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            headers["Content-Encoding"] = "gzip"
            return FileResponse(packed, media_type=media_type, headers=headers)
        return FileResponse(path, headers=headers)

    return [Route("/graphiql/assets/{name}", asset, methods=["GET", "HEAD"])]
