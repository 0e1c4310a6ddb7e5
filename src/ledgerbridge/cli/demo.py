"""A demo tenant, set up the way a user would: through our own API, against the sandboxes.

`ledgerbridge run` uses :func:`provision` to leave a demo account ready; `ledgerbridge demo` also runs the
whole flow once and checks that every demo transaction reached the Xero sandbox as the rules say.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
import webbrowser
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx

from ledgerbridge.cli.books_check import (
    bill_payments,
    bill_problems,
    expected_problems,
    payout_reversal_problems,
    refunded_before_sync,
    summary,
)
from ledgerbridge.cli.demo_onport import bills_settled, connect_onport, reverse_a_payout
from ledgerbridge.cli.sandboxes import sandbox_environment

DEMO_EMAIL = "demo@ledgerbridge.example"
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - the published login of a local demo account
# The ONTRAPORT sandbox's gateways → (currency, clearing account) in the AU demo organisation.
GATEWAYS = {"1": ("USD", "616"), "2": ("GBP", "618"), "3": ("AUD", "615")}
TAXES = {"1": "OUTPUT", "2": "OUTPUT", "3": "OUTPUT"}
WORKERS = ("poller", "mapper", "publisher")


class DemoError(RuntimeError):
    """A demo step failed; the message says which and what the API answered."""


@dataclass(frozen=True)
class DemoTenant:
    email: str
    token: str
    xero_connection_id: str
    ontraport_connection_id: str
    import_id: str
    tenant_id: str
    onport_connection_id: str
    onport_invoices: list[str]


def _ok(response: httpx.Response, step: str) -> dict[str, Any]:
    if response.status_code >= 400:
        raise DemoError(f"{step}: {response.status_code} {response.text[:500]}")
    body: dict[str, Any] = response.json() if response.content else {}
    return body


async def connect_xero(http: httpx.AsyncClient, tenant_id: str) -> str:
    """One Xero consent (auto-approved by the sandbox) and its organisation chosen; returns the connection id."""
    authorize_url = _ok(await http.post("/v1/connections/xero"), "start Xero consent")["authorize_url"]
    consent = await http.get(authorize_url, follow_redirects=False)
    if consent.status_code != 302:
        raise DemoError(f"Xero consent: expected a redirect, got {consent.status_code} {consent.text[:300]}")
    callback = await http.get(consent.headers["location"])
    if callback.status_code == 302:  # SPA_URL set: the callback sends the browser on to the web app
        xero_id = parse_qs(urlparse(callback.headers["location"]).query)["connection_id"][0]
    else:
        xero_id = str(_ok(callback, "Xero callback")["connection_id"])
    _ok(
        await http.put(f"/v1/connections/{xero_id}/organisation", json={"tenant_id": tenant_id}),
        "choose organisation",
    )
    return xero_id


async def provision(
    api_url: str,
    tenant_id: str,
    *,
    email: str,
    app_id: str,
    api_key: str,
    last_n: int = 1000,
    onport: tuple[str, str] | None = None,
) -> DemoTenant:
    """Sign up, connect Xero (OAuth consent at the sandbox), connect ONTRAPORT, map, import."""
    async with httpx.AsyncClient(base_url=api_url, timeout=60) as http:
        _ok(
            await http.post(
                "/v1/auth/signup", json={"email": email, "password": DEMO_PASSWORD, "company": "Demo Co"}
            ),
            "sign up",
        )
        token = _ok(
            await http.post("/v1/auth/token", data={"username": email, "password": DEMO_PASSWORD}), "sign in"
        )["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"
        xero_id = await connect_xero(http, tenant_id)
        ontraport = _ok(
            await http.post("/v1/connections/ontraport", json={"app_id": app_id, "api_key": api_key}),
            "connect ONTRAPORT",
        )
        await _map_and_set_up(http, xero_id)
        _ok(await http.post("/v1/plan/upgrade"), "upgrade the plan")  # the trial would stop at 20
        job = _ok(
            await http.post("/v1/imports", json={"connection_id": ontraport["id"], "last_n": last_n}),
            "historical import",
        )
        onport_id, onport_invoices = "", list[str]()
        if onport is not None:
            onport_url, onport_tenant_id = onport
            bills_xero_id = await connect_xero(http, onport_tenant_id)
            onport_id, onport_invoices = await connect_onport(http, onport_url, bills_xero_id, _ok)
        return DemoTenant(
            email, token, xero_id, str(ontraport["id"]), str(job["id"]), tenant_id, onport_id, onport_invoices
        )


async def _map_and_set_up(http: httpx.AsyncClient, xero_id: str) -> None:
    """Gateways and taxes mapped, defaults for the rest, the review steps confirmed: as an owner would."""
    themes = _ok(await http.get(f"/v1/xero/{xero_id}/branding-themes"), "branding themes")["items"]
    theme = next((t["BrandingThemeID"] for t in themes if t.get("BrandingThemeID")), None)
    mappings = [
        {
            "kind": "gateway",
            "source_id": gateway,
            "target": {
                "currency_code": currency,
                "payment_account_code": account,
                "branding_theme_id": theme,
            },
        }
        for gateway, (currency, account) in GATEWAYS.items()
    ] + [{"kind": "tax", "source_id": tax, "target": {"tax_type": code}} for tax, code in TAXES.items()]
    _ok(await http.put("/v1/mappings", json=mappings), "map gateways and taxes")
    options = {
        "ontraport": {
            "default_sales_account": "200",
            "default_coupon_account": "220",
            "default_shipping_account": "210",
            "tax_free_code": "EXEMPTOUTPUT",
            # The demo's owner has reviewed these: the setup's two review steps are done.
            "invoice_options_confirmed": True,
            "tax_exceptions_reviewed": True,
        }
    }
    _ok(await http.patch("/v1/settings", json=options), "settings")


def seed_when_ready(api_url: str, tenant_id: str, onport: tuple[str, str], *, wait: float = 180) -> None:
    """For `ledgerbridge run`: once the API answers, leave a demo account set up (once per database), then
    open the web app in the browser, signed in as the demo user."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{api_url}/readyz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(1)
    try:
        asyncio.run(
            provision(api_url, tenant_id, email=DEMO_EMAIL, app_id="sandbox-app", api_key="sandbox-key")
        )
        print(
            f"demo account: {DEMO_EMAIL} / {DEMO_PASSWORD}, importing the ONTRAPORT sandbox's sales",
            flush=True,
        )
    except DemoError as error:
        if not str(error).startswith("sign up: 409"):
            print(f"demo account could not be set up: {error}", file=sys.stderr, flush=True)
            return
        print(f"demo account: {DEMO_EMAIL} / {DEMO_PASSWORD} (set up on an earlier run)", flush=True)
    open_signed_in(api_url)


def open_signed_in(api_url: str) -> None:
    """Open the web app signed in as the demo user: a refresh token in the URL's fragment (never sent to
    a server), which the app exchanges at once; the token is single use."""
    try:
        answer = httpx.post(
            f"{api_url}/v1/auth/token", data={"username": DEMO_EMAIL, "password": DEMO_PASSWORD}, timeout=30
        )
        answer.raise_for_status()
    except httpx.HTTPError as error:
        print(f"web app: {api_url}/ (sign in as {DEMO_EMAIL}; automatic sign-in failed: {error})", flush=True)
        return
    url = f"{api_url}/#session={answer.json()['refresh_token']}"
    print(f"web app: {api_url}/ (signed in as {DEMO_EMAIL} at {url})", flush=True)
    # Only where a desktop can show it: on a server, a console browser would take over honcho's terminal.
    desktop = (
        sys.platform in ("darwin", "win32") or os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )
    if desktop and os.environ.get("LEDGERBRIDGE_NO_BROWSER") != "1":
        webbrowser.open(url)


async def wait_until_synced(api_url: str, tenant: DemoTenant, seconds: float) -> dict[str, Any]:
    """Poll the API until the import is done and nothing is left in flight; returns the sync status."""
    headers = {"Authorization": f"Bearer {tenant.token}"}
    async with httpx.AsyncClient(base_url=api_url, headers=headers, timeout=30) as http:
        async with asyncio.timeout(seconds):
            while True:
                job = _ok(await http.get(f"/v1/imports/{tenant.import_id}"), "import progress")
                status = _ok(await http.get("/v1/sync/status"), "sync status")
                if job["status"] == "failed":
                    raise DemoError(f"the import failed: {job.get('error')}")
                in_flight = sum(c.get("backlog", 0) for c in status.get("connections", []))
                bills = await bills_settled(http, tenant.onport_invoices, _ok)
                if job["status"] == "done" and in_flight == 0 and bills:
                    return status
                await asyncio.sleep(1)


def run_demo(transactions: int, timeout: float) -> int:
    """Start everything on free ports, set up a demo tenant through the API, check the books, report."""
    from ledgerbridge.api.app import create_app
    from ledgerbridge.cli.environment import prepare_servers
    from ledgerbridge.common.migrate import upgrade
    from ledgerbridge.common.settings import get_settings
    from ledgerbridge.sandbox.server import free_port, serve_in_thread
    from ledgerbridge.sandbox.xero.seed import demo_tenant_id

    started = time.monotonic()
    prepare_servers()
    upgrade(os.environ["DATABASE_URL"])
    xero_app, ontraport_app, onport_app = _sandbox_apps(transactions)
    api_port = free_port()
    api_url = f"http://127.0.0.1:{api_port}"
    with (
        serve_in_thread(xero_app) as xero_url,
        serve_in_thread(ontraport_app) as ontraport_url,
        serve_in_thread(onport_app) as onport_url,
    ):
        os.environ.update(sandbox_environment(xero_url, ontraport_url, onport_url))
        os.environ.setdefault("XERO_REDIRECT_URI", f"{api_url}/v1/connections/xero/callback")
        os.environ.setdefault("QUEUE_PREFIX", f"demo-{uuid.uuid4().hex[:8]}")
        os.environ.setdefault("LOG_LEVEL", "WARNING")
        get_settings.cache_clear()
        log_dir = Path(get_settings().runtime.data_dir) / "demo-logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        workers = _start_workers(log_dir)
        try:
            with serve_in_thread(create_app(get_settings()), port=api_port):
                tenant = asyncio.run(
                    provision(
                        api_url,
                        demo_tenant_id("AU"),
                        email=f"demo+{uuid.uuid4().hex[:8]}@ledgerbridge.example",
                        app_id="sandbox-app",
                        api_key="sandbox-key",
                        onport=(onport_url, demo_tenant_id("UK")),
                    )
                )
                status = asyncio.run(wait_until_synced(api_url, tenant, timeout))
                bills_org = xero_app.state.sandbox.orgs[demo_tenant_id("UK")]
                reversed_bill = asyncio.run(_reverse_a_payout(api_url, onport_url, tenant, bills_org))
                sales = ontraport_app.state.sandbox.demo.transactions
                report, unexplained = asyncio.run(reconcile(api_url, tenant, sales))
        except (DemoError, TimeoutError, RuntimeError) as error:
            print(f"demo failed: {error or 'timed out'}; worker logs in {log_dir}", file=sys.stderr)
            return 1
        finally:
            _stop_workers(workers)
        sales_org = xero_app.state.sandbox.orgs[tenant.tenant_id]
        print(summary(status, sales_org, time.monotonic() - started))
        print(report, end="")
        problems = expected_problems(sales, sales_org) + unexplained
        problems += bill_problems(
            onport_app.state.sandbox.accounts[1].data, bills_org, tenant.onport_invoices
        )
        problems += payout_reversal_problems(bills_org, reversed_bill)
        return _report(problems, bills_org, len(refunded_before_sync(sales)), reversed_bill)


# Differences the demo explains by itself (a sale not paid, declined, or waiting on the trial); anything
# else means what Xero holds is not what we sent.
EXPLAINED = {"waiting", "skipped", "failed"}


async def reconcile(
    api_url: str, tenant: DemoTenant, sales: dict[int, dict[str, str]]
) -> tuple[str, list[str]]:
    """The reconciliation report (issue 14) over the demo's sales, a row per month, as the bookkeeper
    downloads it: the CSV, and every difference whose cause is not one the demo expects."""
    days = [datetime.fromtimestamp(int(sale["date"]), UTC).date() for sale in sales.values()]
    period = {"from": min(days).isoformat(), "to": max(days).isoformat(), "group_by": "month"}
    headers = {"Authorization": f"Bearer {tenant.token}"}
    async with httpx.AsyncClient(base_url=api_url, headers=headers, timeout=60) as http:
        csv = await http.get("/v1/reports/reconciliation", params={**period, "format": "csv"})
        if csv.status_code >= 400:
            raise DemoError(f"reconciliation report (CSV): {csv.status_code} {csv.text[:500]}")
        # The JSON is cached by now: the second read costs no Xero call.
        report = _ok(await http.get("/v1/reports/reconciliation", params=period), "reconciliation report")
    unexplained = [
        f"reconciliation: {d['external_id']} {d['figure']} {d['cause']}: {d['detail']}"
        for d in report["differences"]
        if d["cause"] not in EXPLAINED
    ]
    causes: dict[str, int] = {}
    for difference in report["differences"]:
        causes[difference["cause"]] = causes.get(difference["cause"], 0) + 1
    explained = ", ".join(f"{n} {cause}" for cause, n in sorted(causes.items())) or "none"
    text = f"  reconciliation report {period['from']} to {period['to']} (differences: {explained}):\n"
    text += "".join(f"    {line}\n" for line in csv.text.splitlines())
    return text, unexplained


async def _reverse_a_payout(api_url: str, onport_url: str, tenant: DemoTenant, bills_org: Any) -> str:
    headers = {"Authorization": f"Bearer {tenant.token}"}
    async with httpx.AsyncClient(base_url=api_url, headers=headers, timeout=30) as http:
        return await reverse_a_payout(
            http,
            onport_url,
            tenant.onport_connection_id,
            tenant.onport_invoices,
            lambda reference: bill_payments(bills_org, reference),
            _ok,
        )


def _sandbox_apps(transactions: int) -> tuple[Any, Any, Any]:
    """The three sandboxes, the ONTRAPORT one with ``transactions`` sales over the last 20 days."""
    from ledgerbridge.sandbox.onport.app import create_app as create_onport
    from ledgerbridge.sandbox.ontraport.app import create_app as create_ontraport
    from ledgerbridge.sandbox.ontraport.config import OntraportSandboxConfig
    from ledgerbridge.sandbox.xero.app import create_app as create_xero

    recent = int(time.time()) - 20 * 86400
    config = OntraportSandboxConfig(
        transactions=transactions, start_date=recent, seconds_between_transactions=3600
    )
    return create_xero(), create_ontraport(config), create_onport()


def _start_workers(log_dir: Path) -> list[subprocess.Popen[bytes]]:
    return [
        subprocess.Popen(  # noqa: S603 - our own interpreter running our own module
            [sys.executable, "-m", "ledgerbridge.cli.main", "worker", name],
            env=dict(os.environ),
            stdout=(log_dir / f"{name}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        for name in WORKERS
    ]


def _stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(15)
        except subprocess.TimeoutExpired:
            worker.kill()


def _report(problems: list[str], bills_org: Any, refunds: int, reversed_bill: str) -> int:
    bills = [i for i in bills_org.invoices.values() if i.get("Type") == "ACCPAY"]
    print(f"  refunded before their first sync (invoice, payment, credit note, refund): {refunds}")
    print(f"  Onport bills in the second organisation: {len(bills)}")
    print(f"  Onport payout cancelled, its bill payment deleted in Xero: bill {reversed_bill}")
    if problems:
        print(f"{len(problems)} transactions did not reach Xero as the rules say:", file=sys.stderr)
        for problem in problems[:50]:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print("every demo transaction reached the Xero sandbox as the rules say")
    return 0
