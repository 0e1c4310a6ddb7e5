"""The gateway serves the built web app and the offline API docs without shadowing any API path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from ledgerbridge.api import problems
from ledgerbridge.api.app import create_app
from ledgerbridge.api.web import IMMUTABLE, install
from ledgerbridge.common.settings import Settings


@pytest.fixture
def built(tmp_path: Path) -> Path:
    """A stand-in build: what Vite writes (index.html, hashed assets) and the copied docs assets."""
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "docs-assets").mkdir()
    (dist / "index.html").write_text("<!doctype html><title>app</title><div id=root></div>")
    (dist / "assets" / "index-abc123.js").write_text("console.log('app')")
    (dist / "docs-assets" / "swagger-ui-bundle.js").write_text("/* swagger */")
    (tmp_path / "secret.txt").write_text("outside the build")
    return dist


@pytest.fixture
async def client(built: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.setenv("WEB_DIST_DIR", str(built))
    app = create_app(Settings())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as http:
        yield http


async def test_client_routes_get_index_html_without_caching(client: httpx.AsyncClient) -> None:
    for path in ("/", "/setup/gateways", "/records/5b9f0a3e", "/signin?next=x"):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert "<div id=root>" in response.text
        assert response.headers["cache-control"] == "no-cache"
    head = await client.head("/records")
    assert head.status_code == 200 and head.headers["cache-control"] == "no-cache"


async def test_hashed_assets_are_cached_for_a_year(client: httpx.AsyncClient) -> None:
    response = await client.get("/assets/index-abc123.js")
    assert response.status_code == 200
    assert response.headers["cache-control"] == IMMUTABLE == "public, max-age=31536000, immutable"
    assert (await client.get("/assets/missing.js")).status_code == 404
    assert (await client.get("/assets/..%2F..%2Fsecret.txt")).status_code == 404


async def test_api_paths_are_never_shadowed(client: httpx.AsyncClient) -> None:
    for path in ("/v1/nothing-here", "/webhooks/nothing", "/metricsx/../v1/x", "/docs-assets/none.js"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json", path
    assert (await client.get("/openapi.json")).json()["info"]["title"] == "ledgerbridge API"
    assert (await client.get("/healthz")).status_code == 200


async def test_docs_load_their_assets_from_us(client: httpx.AsyncClient) -> None:
    docs = await client.get("/docs")
    assert docs.status_code == 200
    assert 'src="/docs-assets/swagger-ui-bundle.js"' in docs.text
    assert "cdn" not in docs.text.lower()
    redoc = await client.get("/redoc")
    assert 'src="/docs-assets/redoc.standalone.js"' in redoc.text
    asset = await client.get("/docs-assets/swagger-ui-bundle.js")
    assert asset.status_code == 200 and asset.text == "/* swagger */"


async def test_an_unbuilt_app_says_how_to_build_it(tmp_path: Path) -> None:
    app = FastAPI()
    problems.install(app)
    install(app, tmp_path / "nothing")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as http:
        response = await http.get("/")
    assert response.status_code == 503
    assert "make install" in response.text


async def test_meta_tells_the_app_about_the_sandboxes(client: httpx.AsyncClient) -> None:
    meta = (await client.get("/v1/meta")).json()
    assert meta["sandbox"] is None and meta["xero_document_url"] is None
    settings = Settings()
    settings.xero.client_id = "sandbox-client"
    settings.xero.api_url = "http://127.0.0.1:8101/api.xro/2.0"
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as http:
        meta = (await http.get("/v1/meta")).json()
    assert meta["sandbox"]["ontraport_app_id"] == "sandbox-app"
    assert meta["sandbox"]["onport_token"] == "sandbox-token"
    assert meta["xero_document_url"] == "http://127.0.0.1:8101/_sandbox/ui/documents/{id}"
