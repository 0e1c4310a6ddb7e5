"""Browser tests: the whole product as processes (API + three workers) on real PostgreSQL and Redis, the
sandboxes on real ports, and Debian's Chromium driven by Playwright. One stack and one browser serve every
test of the session; each test signs up its own account, so tests never see each other's data.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect, sync_playwright

from ledgerbridge.cli.sandboxes import sandbox_environment
from ledgerbridge.sandbox.onport.app import create_app as create_onport
from ledgerbridge.sandbox.ontraport.app import create_app as create_ontraport
from ledgerbridge.sandbox.ontraport.config import OntraportSandboxConfig
from ledgerbridge.sandbox.server import free_port, serve_in_thread
from ledgerbridge.sandbox.xero.app import create_app as create_xero
from ledgerbridge.sandbox.xero.config import XeroSandboxConfig

REPO = Path(__file__).resolve().parents[2]
WEB = REPO / "services" / "web"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
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
AXE = WEB / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "correct horse battery"
# The machine is shared (2 cores, the whole stack, Chromium): give the page time before calling it broken.
expect.set_options(timeout=15_000)
SERVICES = ("poller", "mapper", "publisher")


@dataclass
class WebStack:
    url: str
    xero: FastAPI
    xero_url: str
    ontraport: FastAPI
    ontraport_url: str
    onport: FastAPI
    onport_url: str
    log_dir: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text()[-4000:]}" for path in sorted(self.log_dir.glob("*.log"))
        )


def _wait_ready(url: str, process: subprocess.Popen[bytes], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the API exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise RuntimeError("the API did not become ready")


@pytest.fixture(scope="session")
def web_stack(
    database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WebStack]:
    if not (WEB / "dist" / "index.html").is_file():
        pytest.fail("the web app is not built: run make web-build (make test does it through make install)")
    log_dir = tmp_path_factory.mktemp("web-stack")
    recent = int(time.time()) - 20 * 86400
    xero = create_xero(XeroSandboxConfig())
    ontraport = create_ontraport(
        OntraportSandboxConfig(transactions=40, start_date=recent, seconds_between_transactions=3600)
    )
    onport = create_onport()
    with (
        serve_in_thread(xero) as xero_url,
        serve_in_thread(ontraport) as ontraport_url,
        serve_in_thread(onport) as onport_url,
    ):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            **sandbox_environment(xero_url, ontraport_url, onport_url),
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "QUEUE_PREFIX": f"lbweb-{uuid.uuid4().hex[:8]}",
            "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "SECRET_KEY": "web-tests-secret",
            # Every test signs up new accounts from 127.0.0.1: the per-address sign-up limit is not tested here.
            "API_SIGNUPS_PER_ADDRESS": "1000",
            "XERO_WEBHOOK_KEY": "web-tests-webhook-key",
            "LEDGERBRIDGE_DATA_DIR": str(log_dir / "data"),
            "XERO_REDIRECT_URI": f"{url}/v1/connections/xero/callback",
            "SPA_URL": f"{url}/setup/connect_xero",
            "PUBLIC_BASE_URL": url,
            "LOG_LEVEL": "WARNING",
            "POLL_INTERVAL_SECONDS": "10",
            "POLL_JITTER_SECONDS": "1",
            "QUEUE_RELAY_INTERVAL_SECONDS": "0.1",
            "PUBLISHER_GATHER_SECONDS": "0.3",
            "PUBLISHER_SWEEP_SECONDS": "2",
            "PUBLISHER_SWEEP_AFTER_SECONDS": "3",
        }
        stack = WebStack(url, xero, xero_url, ontraport, ontraport_url, onport, onport_url, log_dir)
        command = [sys.executable, "-m", "ledgerbridge.cli.main"]
        stack.processes["api"] = subprocess.Popen(
            [*command, "api", "--port", str(port)],
            env=env,
            stdout=(log_dir / "api.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        for service in SERVICES:
            stack.processes[service] = subprocess.Popen(
                [*command, "worker", service],
                env=env,
                stdout=(log_dir / f"{service}.log").open("wb"),
                stderr=subprocess.STDOUT,
            )
        try:
            _wait_ready(url, stack.processes["api"])
            yield stack
        finally:
            for process in stack.processes.values():
                process.send_signal(signal.SIGTERM)
            for process in stack.processes.values():
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(5)


@pytest.fixture(scope="module")
def browser(web_stack: WebStack) -> Iterator[Browser]:
    # Playwright's sync API keeps an event loop running in this thread while it is started: it starts
    # after the stack's async fixtures (the database) and stops with its module, before any async test.
    del web_stack
    if not Path(CHROMIUM).exists():
        message = f"no Chromium at {CHROMIUM}: apt-get install -y chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def shots(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """Where a test's page screenshots go: its tmp folder, or WEB_SCREENSHOTS_DIR/<test> when set."""
    chosen = os.environ.get("WEB_SCREENSHOTS_DIR")
    folder = Path(chosen) / request.node.name if chosen else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class App:
    """One person's browser on the app, with the checks every page gets."""

    def __init__(self, page: Page, stack: WebStack, shots: Path) -> None:
        self.page = page
        self.stack = stack
        self.shots = shots
        self.checked: list[str] = []

    def goto(self, path: str) -> None:
        self.page.goto(f"{self.stack.url}{path}")

    def check(self, name: str) -> None:
        """Screenshot, axe-core (no serious or critical violation) and every control reachable by Tab."""
        page = self.page
        page.wait_for_load_state("networkidle")
        expect(page.locator("main h1").first).to_be_visible()
        page.wait_for_function(
            "() => !document.querySelector('[role=status]')?.textContent?.startsWith('Loading')"
        )
        taken = len(list(self.shots.glob("*.png")))  # shared by every browser of the test, in order
        page.screenshot(path=str(self.shots / f"{taken:02d}-{name}.png"), full_page=True)
        self.checked.append(name)
        assert page.evaluate("() => typeof window.axe !== 'undefined'"), "axe-core was not injected"
        violations: list[dict[str, Any]] = page.evaluate(
            """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
                .filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => ({id: v.id, impact: v.impact, help: v.help,
                            nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"""
        )
        assert violations == [], f"{name}: {json.dumps(violations, indent=1)}"
        self._keyboard(name)

    def _keyboard(self, name: str) -> None:
        page = self.page
        expected: list[str] = page.evaluate(
            """() => {
                const selector = 'a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]),'
                  + ' select:not([disabled]), textarea:not([disabled]), summary, [tabindex]:not([tabindex="-1"])';
                const keys = new Set();
                [...document.querySelectorAll(selector)]
                  .filter(el => el.getClientRects().length > 0)
                  .forEach((el, i) => {
                    const key = el.type === 'radio' ? 'radio:' + el.name : 'kb' + i;
                    el.setAttribute('data-kb', key);
                    keys.add(key);
                  });
                return [...keys];
            }"""
        )
        page.evaluate("() => { document.activeElement?.blur(); window.scrollTo(0, 0); }")
        page.locator("body").focus()
        reached: set[str] = set()
        # A date input holds a stop per part (day, month, year, its picker): room for those too.
        for _ in range(len(expected) * 4 + 5):
            page.keyboard.press("Tab")
            key = page.evaluate("() => document.activeElement?.getAttribute('data-kb')")
            if key:
                reached.add(str(key))
            if reached >= set(expected):
                break
        missing = set(expected) - reached
        labels = page.evaluate(
            "(keys) => keys.map(k => document.querySelector(`[data-kb='${k}']`)?.outerHTML.slice(0, 120))",
            sorted(missing),
        )
        assert not missing, f"{name}: not reachable by keyboard: {labels}"


@pytest.fixture
def new_app(browser: Browser, web_stack: WebStack, shots: Path) -> Iterator[Any]:
    contexts = []

    def make() -> App:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(20_000)
        # axe-core from node_modules into every page, before the page's own scripts; an init script is not
        # an inline <script>, so a strict Content-Security-Policy does not block it.
        context.add_init_script(path=str(AXE))
        contexts.append(context)
        return App(context.new_page(), web_stack, shots)

    yield make
    for context in contexts:
        context.close()


def unique_email(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@example.com"
