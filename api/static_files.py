"""Serving a front-end bundle built by `make console`: its hashed assets, and the page a
server without the bundle shows instead (the console and GraphiQL alike).

Vite writes a bundle as a page and `assets/<name>-<hash>.<ext>` in one flat directory, with
a `.gz` beside each asset.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Mapping
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

_ASSET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,200}")


def security_headers(content_security_policy: str) -> dict[str, str]:
    """The headers a bundle's page (and whatever runs under its policy) is served with."""
    return {
        "Content-Security-Policy": content_security_policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


def missing_bundle_html(*, title: str, heading: str, what: str, folder: str, api: str) -> str:
    """The page saying how to build a missing bundle; `api` ends the sentence on /graphql."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}: not built</title>
<style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;line-height:1.5}}
code{{background:#f1f3f5;padding:0 .3em}}</style></head>
<body><h1>{heading}</h1>
<p>This server has no {what} bundle in <code>{folder}</code>.
Build it with <code>make console</code> (it runs <code>npm ci</code> and
<code>npm run build</code> in <code>console/</code>; Node.js 20.19+ and npm are needed),
or simply use <code>make run</code>, which builds it first. Then reload this page.</p>
<p>The GraphQL API itself is unaffected: {api}.</p>
</body></html>
"""


def asset_route(
    path: str, assets_dir: Path, headers: Mapping[str, str], *, enabled: bool = True
) -> Route:
    """`GET <path>/{name}`: a file of `assets_dir` (gzipped when the client takes it), cached
    for good, with `headers` added; 404 for any other name, or for all when not `enabled`."""

    async def asset(request: Request) -> Response:
        name = str(request.path_params["name"])
        file = assets_dir / name
        if not enabled or not _ASSET_NAME.fullmatch(name) or ".." in name or not file.is_file():
            return Response("not found", status_code=404, media_type="text/plain")
        # content-hashed names never change meaning: cache them for good
        sent = {
            "Cache-Control": "public, max-age=31536000, immutable",
            "Vary": "Accept-Encoding",
            **headers,
        }
        packed = file.with_name(file.name + ".gz")  # written by the build beside the asset
        if "gzip" in request.headers.get("accept-encoding", "") and packed.is_file():
            media_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            sent["Content-Encoding"] = "gzip"
            return FileResponse(packed, media_type=media_type, headers=sent)
        return FileResponse(file, headers=sent)

    return Route(path + "/{name}", asset, methods=["GET", "HEAD"])
