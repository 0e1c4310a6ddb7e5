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
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

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


def _ok(response: httpx.Response, step: str) -> dict[str, Any]:
    if response.status_code >= 400:
        raise DemoError(f"{step}: {response.status_code} {response.text[:500]}")
    body: dict[str, Any] = response.json() if response.content else {}
    return body


async def provision(
    api_url: str, tenant_id: str, *, email: str, app_id: str, api_key: str, last_n: int = 1000
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
        authorize_url = _ok(await http.post("/v1/connections/xero"), "start Xero consent")["authorize_url"]
        consent = await http.get(authorize_url, follow_redirects=False)
        if consent.status_code != 302:
            raise DemoError(
                f"Xero consent: expected a redirect, got {consent.status_code} {consent.text[:300]}"
            )
        xero = _ok(await http.get(consent.headers["location"]), "Xero callback")
        xero_id = str(xero["connection_id"])
        _ok(
            await http.put(f"/v1/connections/{xero_id}/organisation", json={"tenant_id": tenant_id}),
            "choose organisation",
        )
        themes = _ok(await http.get(f"/v1/xero/{xero_id}/branding-themes"), "branding themes")["items"]
        theme = next((t["BrandingThemeID"] for t in themes if t.get("BrandingThemeID")), None)
        ontraport = _ok(
            await http.post("/v1/connections/ontraport", json={"app_id": app_id, "api_key": api_key}),
            "connect ONTRAPORT",
        )
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
            }
        }
        _ok(await http.patch("/v1/settings", json=options), "settings")
        _ok(await http.post("/v1/plan/upgrade"), "upgrade the plan")  # the trial would stop at 20
        job = _ok(
            await http.post("/v1/imports", json={"connection_id": ontraport["id"], "last_n": last_n}),
            "historical import",
        )
        return DemoTenant(email, token, xero_id, str(ontraport["id"]), str(job["id"]), tenant_id)


def seed_when_ready(api_url: str, tenant_id: str, *, wait: float = 180) -> None:
    """For `ledgerbridge run`: once the API answers, leave a demo account set up (once per database)."""
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
    except DemoError as error:
        if str(error).startswith("sign up: 409"):
            print(f"demo account: {DEMO_EMAIL} / {DEMO_PASSWORD} (set up on an earlier run)", flush=True)
            return
        print(f"demo account could not be set up: {error}", file=sys.stderr, flush=True)
        return
    print(
        f"demo account: {DEMO_EMAIL} / {DEMO_PASSWORD}, importing the ONTRAPORT sandbox's sales", flush=True
    )


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
                if job["status"] == "done" and in_flight == 0:
                    return status
                await asyncio.sleep(1)


def expected_problems(transactions: dict[int, dict[str, str]], organisation: Any) -> list[str]:
    """Where the Xero sandbox's books differ from SPEC.md §4 for these ONTRAPORT transactions."""
    invoices = {
        str(i["InvoiceNumber"]): i for i in organisation.invoices.values() if i.get("Type") == "ACCREC"
    }
    problems = []
    for transaction_id, transaction in sorted(transactions.items()):
        number = f"OP-{transaction_id}"
        if transaction["status"] != "1":
            if number in invoices:
                problems.append(f"{number}: status {transaction['status']} should not be in Xero")
            continue
        invoice = invoices.get(number)
        if invoice is None:
            problems.append(f"{number}: paid in ONTRAPORT but missing in Xero")
            continue
        if Decimal(str(invoice["Total"])).quantize(Decimal("0.01")) != Decimal(transaction["total"]):
            problems.append(
                f"{number}: Xero total {invoice['Total']} but ONTRAPORT charged {transaction['total']}"
            )
        if invoice["Status"] != "PAID":
            problems.append(f"{number}: {invoice['Status']} in Xero, expected PAID")
    return problems


def run_demo(transactions: int, timeout: float) -> int:
    """Start everything on free ports, set up a demo tenant through the API, check the books, report."""
    from ledgerbridge.api.app import create_app
    from ledgerbridge.cli.environment import prepare_servers
    from ledgerbridge.common.migrate import upgrade
    from ledgerbridge.common.settings import get_settings
    from ledgerbridge.sandbox.onport.app import create_app as create_onport
    from ledgerbridge.sandbox.ontraport.app import create_app as create_ontraport
    from ledgerbridge.sandbox.ontraport.config import OntraportSandboxConfig
    from ledgerbridge.sandbox.server import free_port, serve_in_thread
    from ledgerbridge.sandbox.xero.app import create_app as create_xero
    from ledgerbridge.sandbox.xero.seed import demo_tenant_id

    started = time.monotonic()
    prepare_servers()
    upgrade(os.environ["DATABASE_URL"])
    recent = int(time.time()) - 20 * 86400
    xero_app = create_xero()
    ontraport_app = create_ontraport(
        OntraportSandboxConfig(
            transactions=transactions, start_date=recent, seconds_between_transactions=3600
        )
    )
    api_port = free_port()
    api_url = f"http://127.0.0.1:{api_port}"
    with (
        serve_in_thread(xero_app) as xero_url,
        serve_in_thread(ontraport_app) as ontraport_url,
        serve_in_thread(create_onport()) as onport_url,
    ):
        os.environ.update(sandbox_environment(xero_url, ontraport_url, onport_url))
        os.environ.setdefault("XERO_REDIRECT_URI", f"{api_url}/v1/connections/xero/callback")
        os.environ.setdefault("QUEUE_PREFIX", f"demo-{uuid.uuid4().hex[:8]}")
        os.environ.setdefault("LOG_LEVEL", "WARNING")
        get_settings.cache_clear()
        log_dir = Path(get_settings().runtime.data_dir) / "demo-logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        workers = [
            subprocess.Popen(  # noqa: S603 - our own interpreter running our own module
                [sys.executable, "-m", "ledgerbridge.cli.main", "worker", name],
                env=dict(os.environ),
                stdout=(log_dir / f"{name}.log").open("wb"),
                stderr=subprocess.STDOUT,
            )
            for name in WORKERS
        ]
        try:
            with serve_in_thread(create_app(get_settings()), port=api_port):
                tenant = asyncio.run(
                    provision(
                        api_url,
                        demo_tenant_id("AU"),
                        email=f"demo+{uuid.uuid4().hex[:8]}@ledgerbridge.example",
                        app_id="sandbox-app",
                        api_key="sandbox-key",
                    )
                )
                status = asyncio.run(wait_until_synced(api_url, tenant, timeout))
        except (DemoError, TimeoutError) as error:
            print(f"demo failed: {error or 'timed out'}; worker logs in {log_dir}", file=sys.stderr)
            return 1
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            for worker in workers:
                try:
                    worker.wait(15)
                except subprocess.TimeoutExpired:
                    worker.kill()

        demo_account = ontraport_app.state.sandbox.demo
        organisation = xero_app.state.sandbox.orgs[tenant.tenant_id]
        problems = expected_problems(demo_account.transactions, organisation)
        print(summary(status, organisation, time.monotonic() - started))
        if problems:
            print(f"{len(problems)} transactions did not reach Xero as the rules say:", file=sys.stderr)
            for problem in problems[:50]:
                print(f"  {problem}", file=sys.stderr)
            return 1
        print("every demo transaction reached the Xero sandbox as the rules say")
        return 0


def summary(status: dict[str, Any], organisation: Any, seconds: float) -> str:
    records = Counter[str](status.get("records") or {})
    documents = {
        "invoices": sum(1 for i in organisation.invoices.values() if i.get("Type") == "ACCREC"),
        "payments": sum(1 for p in organisation.payments.values() if p.get("Status") != "DELETED"),
        "credit notes": len(organisation.credit_notes),
        "contacts": len(organisation.contacts),
    }
    lines = [
        "ledgerbridge demo",
        f"  records by status: {dict(sorted(records.items()))}",
        f"  Xero documents: {documents}",
        f"  Xero calls used: {organisation.counters.calls} ({dict(organisation.counters.by_endpoint)})",
        f"  429s received: {organisation.counters.rate_limited}",
        f"  time taken: {seconds:.1f}s",
    ]
    return "\n".join(lines)
