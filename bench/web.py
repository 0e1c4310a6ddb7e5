"""The web app's figures: first-load JavaScript (gzipped) and the records page's first page with 10,000 records.

The second runs the real gateway (API + built app) on a scratch database holding one account with that
many ONTRAPORT records, and times Debian's Chromium from navigation to the first 50 rows on screen.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import statistics
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert

from ledgerbridge.common.database import create_engine
from ledgerbridge.common.models import (
    Connection,
    ConnectionKind,
    ConnectionStatus,
    RecordStatus,
    SourceRecord,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
DIST = REPO_ROOT / "services" / "web" / "dist"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct horse battery"  # noqa: S105 - a scratch account in a scratch database


@dataclass(frozen=True)
class BundleFigures:
    js_files: int
    js_bytes: int
    js_gzipped: int
    css_gzipped: int


@dataclass(frozen=True)
class RecordsFigures:
    records: int
    in_app_ms: list[float]  # clicking "Records" in the running app
    reload_ms: list[float]  # loading /records afresh: the app's files, the silent sign-in, the query

    @property
    def in_app_median(self) -> float:
        return statistics.median(self.in_app_ms)

    @property
    def reload_median(self) -> float:
        return statistics.median(self.reload_ms)


def first_load() -> BundleFigures:
    """What index.html makes the browser load before the app runs: its scripts, module preloads, styles."""
    index = (DIST / "index.html").read_text()
    scripts = re.findall(r'<script[^>]+src="([^"]+\.js)"', index) + re.findall(
        r'<link[^>]+rel="modulepreload"[^>]+href="([^"]+\.js)"', index
    )
    styles = re.findall(r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+\.css)"', index)
    js = [(DIST / path.lstrip("/")).read_bytes() for path in dict.fromkeys(scripts)]
    css = [(DIST / path.lstrip("/")).read_bytes() for path in dict.fromkeys(styles)]
    return BundleFigures(
        js_files=len(js),
        js_bytes=sum(map(len, js)),
        js_gzipped=sum(len(gzip.compress(body, 9)) for body in js),
        css_gzipped=sum(len(gzip.compress(body, 9)) for body in css),
    )


async def seed_records(database_url: str, api_url: str, count: int) -> str:
    """An account (signed up through the API) with ``count`` ONTRAPORT records; returns its e-mail."""
    email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as http:
        created = await http.post(
            "/v1/auth/signup", json={"email": email, "password": PASSWORD, "company": "Bench Co"}
        )
        created.raise_for_status()
        account_id = uuid.UUID(created.json()["account_id"])
    engine = create_engine(database_url)
    statuses = [RecordStatus.synced] * 8 + [RecordStatus.failed, RecordStatus.skipped]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    try:
        async with engine.begin() as connection:
            source_id = uuid.uuid4()
            await connection.execute(
                insert(Connection).values(
                    id=source_id,
                    account_id=account_id,
                    kind=ConnectionKind.ontraport,
                    status=ConnectionStatus.active,
                    credentials=b"",
                    name="Bench ONTRAPORT",
                )
            )
            rows = []
            for number in range(count):
                payload = {"transaction": {"id": str(100000 + number), "total": "42.00", "status": "1"}}
                rows.append(
                    {
                        "account_id": account_id,
                        "connection_id": source_id,
                        "source": "ontraport",
                        "kind": "transaction",
                        "external_id": str(100000 + number),
                        "payload": payload,
                        "payload_hash": hashlib.sha256(json.dumps(payload).encode()).hexdigest(),
                        "status": statuses[number % len(statuses)],
                        "reason": "Product 9 has no sales account" if number % 10 == 8 else None,
                        "source_date": start + timedelta(minutes=number),
                    }
                )
            for offset in range(0, len(rows), 2000):
                await connection.execute(insert(SourceRecord), rows[offset : offset + 2000])
    finally:
        await engine.dispose()
    return email


def time_records_page(api_url: str, email: str, records: int, runs: int = 5) -> RecordsFigures:
    """Milliseconds from navigating to /records until its first page of rows is on screen."""
    from playwright.sync_api import sync_playwright

    in_app: list[float] = []
    reload: list[float] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"{api_url}/signin")
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name="Dashboard").wait_for()
        for _ in range(runs + 1):  # the first run warms the caches (the app's files, the database's pages)
            page.get_by_role("link", name="Dashboard").click()
            page.get_by_role("heading", name="Dashboard").wait_for()
            began = time.perf_counter()
            page.get_by_role("navigation", name="Main").get_by_role("link", name="Records").click()
            page.wait_for_function("() => document.querySelectorAll('table.records tbody tr').length === 50")
            in_app.append((time.perf_counter() - began) * 1000)
        # And a full load of the page (a reload: the silent sign-in, the app's files, the query).
        for _ in range(runs):
            began = time.perf_counter()
            page.goto(f"{api_url}/records")
            page.wait_for_function("() => document.querySelectorAll('table.records tbody tr').length === 50")
            reload.append((time.perf_counter() - began) * 1000)
        browser.close()
    return RecordsFigures(records=records, in_app_ms=in_app[1:], reload_ms=reload)
