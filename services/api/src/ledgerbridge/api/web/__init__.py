"""The web app (services/web, built by ``make web-build``) and the offline API docs, served by the gateway.

- ``/assets/*``: Vite's content-hashed files, cached for a year (``immutable``).
- ``/docs``, ``/redoc``: Swagger UI and ReDoc from ``/docs-assets/`` (copied into the build from npm),
  so they work without internet.
- any other GET that is not an API path: ``index.html`` (``no-cache``), so client routes survive a reload.

The API's own prefixes are never shadowed: an unknown ``/v1/...`` path stays a 404 problem document.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response

from ledgerbridge.api.problems import ProblemError
from ledgerbridge.api.web.meta import router as meta_router

IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"
# Paths the app never answers with index.html, so a mistyped API call gets a real 404.
RESERVED = ("v1", "webhooks", "docs", "redoc", "openapi.json", "healthz", "readyz", "metrics", "docs-assets")
_NOT_BUILT = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>ledgerbridge</title></head>
<body><main><h1>ledgerbridge</h1><p>The web app is not built. Run <code>make install</code> (or
<code>make web-build</code>) and reload. The API is at <a href="/docs">/docs</a>.</p></main></body></html>"""


def dist_dir() -> Path:
    """Where the built app is: ``WEB_DIST_DIR``, else ``services/web/dist`` of this source tree."""
    configured = os.environ.get("WEB_DIST_DIR")
    if configured:
        return Path(configured)
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "services" / "web" / "dist"
        if candidate.is_dir() or (parent / "services" / "web").is_dir():
            return candidate
    return Path("services/web/dist").resolve()


def _docs_page(title: str, head: str, body: str) -> HTMLResponse:
    html = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">{head}</head>'
        f"<body>{body}</body></html>"
    )
    return HTMLResponse(html, headers={"Cache-Control": NO_CACHE})


def _inside(root: Path, relative: str) -> Path | None:
    """The file under root that a URL path names, or None (missing, or outside root)."""
    candidate = (root / relative).resolve()
    try:
        candidate.relative_to(root.resolve())
    except ValueError:
        return None
    return candidate if candidate.is_file() else None


def install(app: FastAPI, root: Path | None = None) -> None:
    """Add the docs routes and the app's routes; call after every API router is included."""
    dist = root or dist_dir()
    app.include_router(meta_router)

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return _docs_page(
            "ledgerbridge API",
            '<link rel="stylesheet" href="/docs-assets/swagger-ui.css">',
            '<div id="swagger-ui"></div><script src="/docs-assets/swagger-ui-bundle.js"></script>'
            '<script src="/docs-assets/swagger-init.js"></script>',
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return _docs_page(
            "ledgerbridge API (ReDoc)",
            "",
            '<div id="redoc"></div><script src="/docs-assets/redoc.standalone.js"></script>'
            '<script src="/docs-assets/redoc-init.js"></script>',
        )

    @app.get("/docs-assets/{name}", include_in_schema=False)
    async def docs_asset(name: str) -> Response:
        found = _inside(dist / "docs-assets", name)
        if found is None:
            raise ProblemError(404, "Not found", "Docs assets are missing: run make web-build")
        return FileResponse(found, headers={"Cache-Control": "public, max-age=3600"})

    @app.api_route("/assets/{name:path}", methods=["GET", "HEAD"], include_in_schema=False)
    async def hashed_asset(name: str) -> Response:
        found = _inside(dist / "assets", name)
        if found is None:
            raise ProblemError(404, "Not found", f"No asset {name}")
        return FileResponse(found, headers={"Cache-Control": IMMUTABLE})

    @app.api_route("/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
    async def spa(path: str) -> Response:
        first = path.split("/", 1)[0]
        if first in RESERVED:
            raise ProblemError(404, "Not found", "Not Found")  # as for any unknown API route
        index = dist / "index.html"
        if not index.is_file():
            return HTMLResponse(_NOT_BUILT, status_code=503, headers={"Cache-Control": NO_CACHE})
        if path and "/" not in path:
            top = _inside(dist, path)  # favicon and other unhashed files at the top of the build
            if top is not None and top.name != "index.html":
                return FileResponse(top, headers={"Cache-Control": "public, max-age=3600"})
        return FileResponse(index, headers={"Cache-Control": NO_CACHE})
