"""The audit trail for people (issue 14, point 4): every change a user makes is recorded with who, when and
what changed, in the same transaction as the change, and shown for its subject.

The cases are checked against the app's own routes: a new mutating endpoint without a case here (or a
reason it is exempt) fails ``test_every_mutating_endpoint_is_audited``.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from ledgerbridge.api.app import create_app
from ledgerbridge.common.models import ConnectionKind, RecordStatus
from ledgerbridge.common.settings import Settings
from tests.api.conftest import PASSWORD, MakeTenant, Tenant
from tests.api.seed import Sessions, add_connection, add_record
from tests.api.test_connections import (  # the sandboxes on ports, and the settings pointing at them
    Sandboxes,
    consent_at_xero,
    new_onport_account,
    new_ontraport_account,
    sandboxes,
    settings,
)
from tests.api.test_onport import invoice_payload

__all__ = ["sandboxes", "settings"]  # fixtures, used by name

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
EXEMPT = {
    ("POST", "/v1/auth/signup"): "makes the account and its first user: nobody signed in to attribute it to",
    ("POST", "/v1/auth/token"): "signs in; changes nothing of the account",
    ("POST", "/v1/auth/refresh"): "rotates the caller's own session token; changes nothing of the account",
    ("POST", "/v1/rollbacks/dry-run"): "a dry run changes nothing, in Xero or here",
}


@dataclass
class World:
    api: httpx.AsyncClient
    tenant: Tenant
    sandboxes: Sandboxes
    committing: Sessions

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = await self.api.request(method, path, headers=self.tenant.headers, **kwargs)
        assert response.status_code < 300, response.text
        return response

    async def source(self, kind: ConnectionKind = ConnectionKind.ontraport) -> uuid.UUID:
        xero = await add_connection(
            self.committing, self.tenant.account_id, ConnectionKind.xero, xero_tenant_id="org"
        )
        return await add_connection(self.committing, self.tenant.account_id, kind, xero_connection_id=xero)

    async def failed_record(self) -> uuid.UUID:
        source = await self.source()
        return await add_record(
            self.committing,
            self.tenant.account_id,
            source,
            "1001",
            status=RecordStatus.failed,
            reason="No account",
        )

    async def member(self) -> str:
        email = f"bk-{uuid.uuid4().hex[:8]}@example.com"
        created = await self.call("POST", "/v1/users", json={"email": email, "password": PASSWORD})
        member_id: str = created.json()["id"]
        return member_id

    async def ontraport(self) -> str:
        account = await new_ontraport_account(self.sandboxes)
        body = {"app_id": account["app_id"], "api_key": account["api_key"]}
        connection_id: str = (await self.call("POST", "/v1/connections/ontraport", json=body)).json()["id"]
        return connection_id

    async def rule(self) -> str:
        body = {"name": "NZ", "filters": {"countries": ["NZ"]}, "tax_type": "OUTPUT2", "priority": 1}
        rule_id: str = (await self.call("POST", "/v1/tax-exceptions", json=body)).json()["id"]
        return rule_id


Expected = tuple[str, str]  # (action, subject) of the newest entry for the subject
Case = Callable[[World], Awaitable[Expected]]


async def _retry_one(w: World) -> Expected:
    record = await w.failed_record()
    await w.call("POST", f"/v1/records/{record}/retry")
    return "record.retry", f"record:{record}"


async def _retry_matching(w: World) -> Expected:
    record = await w.failed_record()
    await w.call("POST", "/v1/records/retry", json={"status": ["failed"]})
    return "record.retry", f"record:{record}"


async def _invite(w: World) -> Expected:
    return "user.invite", f"user:{await w.member()}"


async def _change_own_password(w: World) -> Expected:
    body = {"current_password": PASSWORD, "new_password": "another horse battery"}
    await w.call("PUT", "/v1/me/password", json=body)
    return "user.change_password", f"user:{w.tenant.user_id}"


async def _change_role(w: World) -> Expected:
    member = await w.member()
    await w.call("PATCH", f"/v1/users/{member}", json={"role": "owner"})
    return "user.change_role", f"user:{member}"


async def _remove_user(w: World) -> Expected:
    member = await w.member()
    await w.call("DELETE", f"/v1/users/{member}")
    return "user.remove", f"user:{member}"


async def _reset_password(w: World) -> Expected:
    member = await w.member()
    await w.call("PUT", f"/v1/users/{member}/password", json={"password": "a brand new password"})
    return "user.reset_password", f"user:{member}"


async def _create_rule(w: World) -> Expected:
    return "tax_exception.create", f"tax_exception:{await w.rule()}"


async def _replace_rule(w: World) -> Expected:
    rule = await w.rule()
    body = {"name": "NZ", "filters": {"countries": ["AU"]}, "tax_type": "OUTPUT2", "priority": 1}
    await w.call("PUT", f"/v1/tax-exceptions/{rule}", json=body)
    return "tax_exception.replace", f"tax_exception:{rule}"


async def _delete_rule(w: World) -> Expected:
    rule = await w.rule()
    await w.call("DELETE", f"/v1/tax-exceptions/{rule}")
    return "tax_exception.delete", f"tax_exception:{rule}"


async def _upgrade(w: World) -> Expected:
    await w.call("POST", "/v1/plan/upgrade")
    return "plan.upgrade", "plan"


async def _start_xero(w: World) -> Expected:
    await w.call("POST", "/v1/connections/xero")
    return "connection.xero_consent_start", "connection:xero"


async def _choose_organisation(w: World) -> Expected:
    callback = await w.api.get("/v1/connections/xero/callback", params=await consent_at_xero(w.api, w.tenant))
    connection = callback.json()["connection_id"]
    listed = await w.call("GET", f"/v1/connections/{connection}/organisations")
    tenant_id = listed.json()["items"][0]["tenant_id"]
    await w.call("PUT", f"/v1/connections/{connection}/organisation", json={"tenant_id": tenant_id})
    # The consent itself (the callback Xero sent the browser to) was recorded for the user who started it.
    entries = (await w.call("GET", "/v1/audit", params={"subject": f"connection:{connection}"})).json()[
        "items"
    ]
    assert [e["action"] for e in entries][-1] == "connection.xero_consent"
    assert entries[-1]["user_email"] == w.tenant.email
    return "connection.choose_organisation", f"connection:{connection}"


async def _connect_ontraport(w: World) -> Expected:
    return "connection.connect", f"connection:{await w.ontraport()}"


async def _connect_onport(w: World) -> Expected:
    account = await new_onport_account(w.sandboxes)
    created = await w.call("POST", "/v1/connections/onport", json={"api_token": account["token"]})
    return "connection.connect", f"connection:{created.json()['id']}"


async def _choose_xero_connection(w: World) -> Expected:
    source = await w.source()
    other = await add_connection(
        w.committing, w.tenant.account_id, ConnectionKind.xero, xero_tenant_id="org-2"
    )
    await w.call("PUT", f"/v1/connections/{source}/xero-connection", json={"xero_connection_id": str(other)})
    return "connection.choose_xero_connection", f"connection:{source}"


async def _rotate_token(w: World) -> Expected:
    connection = await w.ontraport()
    await w.call("POST", f"/v1/connections/{connection}/webhook-token")
    return "connection.rotate_webhook_token", f"connection:{connection}"


async def _disconnect(w: World) -> Expected:
    source = await w.source(ConnectionKind.onport)
    await w.call("DELETE", f"/v1/connections/{source}")
    return "connection.disconnect", f"connection:{source}"


async def _patch_settings(w: World) -> Expected:
    await w.call("PATCH", "/v1/settings", json={"ontraport": {"skip_refunded_before_sync": True}})
    return "settings.update", "settings"


async def _start_import(w: World) -> Expected:
    source = await w.source()
    body = {"connection_id": str(source), "since": "2024-01-01", "until": "2024-06-30"}
    created = await w.call("POST", "/v1/imports", json=body)
    return "import.start", f"import:{created.json()['id']}"


async def _sync_run(w: World) -> Expected:
    await w.source()
    await w.call("POST", "/v1/sync/run")
    return "sync.run", "sync"


async def _put_mappings(w: World) -> Expected:
    await w.call(
        "PUT",
        "/v1/mappings",
        json=[{"kind": "product", "source_id": "17", "target": {"account_code": "200"}}],
    )
    return "mapping.save", "mapping:product:17"


async def _put_mapping(w: World) -> Expected:
    await w.call("PUT", "/v1/mappings/product/17", json={"account_code": "200"})
    return "mapping.save", "mapping:product:17"


async def _delete_mapping(w: World) -> Expected:
    await w.call("PUT", "/v1/mappings/product/17", json={"account_code": "200"})
    await w.call("DELETE", "/v1/mappings/product/17")
    return "mapping.delete", "mapping:product:17"


async def _sync_onport_invoice(w: World) -> Expected:
    source = await w.source(ConnectionKind.onport)
    record = await add_record(
        w.committing,
        w.tenant.account_id,
        source,
        "5002",
        source="onport",
        status=RecordStatus.waiting,
        reason="Automatic sync is off",
        payload=invoice_payload(5002, "automated_dropship"),
    )
    await w.call("POST", f"/v1/onport/invoices/{record}/sync")
    return "record.sync_to_xero", f"record:{record}"


WEBHOOK = {"url": "http://127.0.0.1:9/hook", "format": "json"}


async def _put_alerts(w: World) -> Expected:
    await w.call("PUT", "/v1/alerts", json={"webhook": WEBHOOK})
    return "alerts.update", "alerts"


async def _rotate_alert_secret(w: World) -> Expected:
    await w.call("PUT", "/v1/alerts", json={"webhook": WEBHOOK})
    await w.call("POST", "/v1/alerts/webhook-secret")
    return "alerts.webhook_secret_rotate", "alerts"


async def _test_alert(w: World) -> Expected:
    await w.call("PUT", "/v1/alerts", json={"webhook": WEBHOOK})
    await w.call("POST", "/v1/alerts/test")
    return "alerts.test", "alerts"


async def _rollback(w: World) -> Expected:
    # A bounded selection with nothing in it still records who asked for what (each undone record gets
    # its own entry too: tests/e2e/test_trust_in_the_books.py).
    await w.call(
        "POST",
        "/v1/rollbacks",
        json={"since": "2026-11-01T00:00:00Z", "until": "2026-11-02T00:00:00Z", "confirm": True},
    )
    return "rollbacks.run", "rollbacks"


async def _day_limit(w: World) -> Expected:
    xero = await add_connection(w.committing, w.tenant.account_id, ConnectionKind.xero, xero_tenant_id="org")
    await w.call("PUT", f"/v1/connections/{xero}/day-limit", json={"day_limit": 1000})
    return "connection.day_limit", f"connection:{xero}"


CASES: dict[tuple[str, str], Case] = {
    ("POST", "/v1/records/retry"): _retry_matching,
    ("POST", "/v1/records/{record_id}/retry"): _retry_one,
    ("POST", "/v1/users"): _invite,
    ("PUT", "/v1/me/password"): _change_own_password,
    ("PATCH", "/v1/users/{user_id}"): _change_role,
    ("DELETE", "/v1/users/{user_id}"): _remove_user,
    ("PUT", "/v1/users/{user_id}/password"): _reset_password,
    ("POST", "/v1/tax-exceptions"): _create_rule,
    ("PUT", "/v1/tax-exceptions/{rule_id}"): _replace_rule,
    ("DELETE", "/v1/tax-exceptions/{rule_id}"): _delete_rule,
    ("POST", "/v1/plan/upgrade"): _upgrade,
    ("POST", "/v1/connections/xero"): _start_xero,
    ("PUT", "/v1/connections/{connection_id}/organisation"): _choose_organisation,
    ("POST", "/v1/connections/ontraport"): _connect_ontraport,
    ("POST", "/v1/connections/onport"): _connect_onport,
    ("PUT", "/v1/connections/{connection_id}/xero-connection"): _choose_xero_connection,
    ("POST", "/v1/connections/{connection_id}/webhook-token"): _rotate_token,
    ("DELETE", "/v1/connections/{connection_id}"): _disconnect,
    ("PATCH", "/v1/settings"): _patch_settings,
    ("POST", "/v1/imports"): _start_import,
    ("POST", "/v1/sync/run"): _sync_run,
    ("PUT", "/v1/mappings"): _put_mappings,
    ("PUT", "/v1/mappings/{kind}/{source_id}"): _put_mapping,
    ("DELETE", "/v1/mappings/{kind}/{source_id}"): _delete_mapping,
    ("POST", "/v1/onport/invoices/{record_id}/sync"): _sync_onport_invoice,
    ("PUT", "/v1/alerts"): _put_alerts,
    ("POST", "/v1/alerts/webhook-secret"): _rotate_alert_secret,
    ("POST", "/v1/alerts/test"): _test_alert,
    ("POST", "/v1/rollbacks"): _rollback,
    ("PUT", "/v1/connections/{connection_id}/day-limit"): _day_limit,
}


def _mutating_routes() -> set[tuple[str, str]]:
    """Every write operation the app serves, from its own OpenAPI (the routes as FastAPI publishes them)."""
    paths = create_app(Settings()).openapi()["paths"]
    return {
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith("/v1/")
        for method in operations
        if method.upper() in MUTATING
    }


def test_every_mutating_endpoint_is_audited() -> None:
    routes = _mutating_routes()
    assert routes - set(CASES) - set(EXEMPT) == set(), (
        "a new mutating endpoint needs an audit entry and a case"
    )
    assert set(CASES) - routes == set(), "a case for an endpoint that no longer exists"


async def _entries(api: httpx.AsyncClient, tenant: Tenant, subject: str) -> list[dict[str, Any]]:
    response = await api.get("/v1/audit", params={"subject": subject}, headers=tenant.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


@pytest.mark.parametrize("route", sorted(CASES), ids=[f"{m} {p}" for m, p in sorted(CASES)])
async def test_each_change_is_recorded_with_who_and_when(
    route: tuple[str, str],
    api: httpx.AsyncClient,
    make_tenant: MakeTenant,
    sandboxes: Sandboxes,
    committing: Sessions,
) -> None:
    tenant = await make_tenant()
    started = datetime.now(UTC)
    action, subject = await CASES[route](World(api, tenant, sandboxes, committing))

    if route == ("PUT", "/v1/me/password"):  # the change ended the session: sign in again to read
        signed = await api.post(
            "/v1/auth/token", data={"username": tenant.email, "password": "another horse battery"}
        )
        tenant = Tenant(
            tenant.account_id,
            tenant.user_id,
            tenant.email,
            {"Authorization": f"Bearer {signed.json()['access_token']}"},
        )
    entries = await _entries(api, tenant, subject)
    assert entries, f"no audit entry for {subject}"
    newest = entries[0]
    assert (newest["action"], newest["subject"]) == (action, subject)
    assert (newest["user_id"], newest["user_email"]) == (str(tenant.user_id), tenant.email)
    assert started - timedelta(seconds=5) <= datetime.fromisoformat(newest["created_at"]) <= datetime.now(UTC)

    stranger = await make_tenant()
    assert await _entries(api, stranger, subject) == []  # another account sees none of it


async def test_before_and_after_say_what_changed_and_never_a_secret(
    api: httpx.AsyncClient, make_tenant: MakeTenant, sandboxes: Sandboxes
) -> None:
    tenant = await make_tenant()
    await api.put("/v1/mappings/product/17", json={"account_code": "200"}, headers=tenant.headers)
    await api.put("/v1/mappings/product/17", json={"account_code": "210"}, headers=tenant.headers)
    saved = await _entries(api, tenant, "mapping:product:17")
    assert [(e["before"], e["after"]) for e in saved] == [
        ({"target": {"account_code": "200"}}, {"target": {"account_code": "210"}}),
        (None, {"target": {"account_code": "200"}}),
    ]

    patched = await api.patch(
        "/v1/settings", json={"ontraport": {"default_sales_account": "200"}}, headers=tenant.headers
    )
    assert patched.status_code == 200, patched.text
    setting = (await _entries(api, tenant, "settings"))[0]
    assert setting["before"] == {"ontraport.default_sales_account": None}
    assert setting["after"] == {"ontraport.default_sales_account": "200"}

    alerts = {
        "smtp": {
            "host": "127.0.0.1",
            "port": 2525,
            "tls": "none",
            "username": "mailer",
            "password": "smtp-pass-do-not-log",
            "from_address": "alerts@example.com",
        }
    }
    assert (await api.put("/v1/alerts", json=alerts, headers=tenant.headers)).status_code == 200
    account = await new_ontraport_account(sandboxes)
    body = {"app_id": account["app_id"], "api_key": account["api_key"]}
    connected = await api.post("/v1/connections/ontraport", json=body, headers=tenant.headers)
    assert connected.status_code == 201, connected.text
    everything = await api.get("/v1/audit", headers=tenant.headers)
    assert "smtp-pass-do-not-log" not in everything.text
    assert account["api_key"] not in everything.text
    for url in connected.json()["webhook_urls"].values():  # the URLs carry the push token
        assert url.rsplit("/", 1)[-1] not in everything.text
    after = next(e for e in everything.json()["items"] if e["action"] == "alerts.update")["after"]
    assert (after["smtp.host"], after["smtp.password_set"]) == ("127.0.0.1", True)
    assert "smtp.password" not in after


async def test_a_refused_change_leaves_no_entry_and_pages_go_back_in_time(
    api: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    refused = await api.patch(
        "/v1/settings", json={"ontraport": {"untaxed_mode": "nope"}}, headers=tenant.headers
    )
    assert refused.status_code == 422
    assert await _entries(api, tenant, "settings") == []  # the same transaction as the change: rolled back

    for code in ("200", "210", "220"):
        await api.put(f"/v1/mappings/product/{code}", json={"account_code": code}, headers=tenant.headers)
    first = (
        await api.get("/v1/audit", params={"subject": "mapping", "limit": 2}, headers=tenant.headers)
    ).json()
    assert [e["subject"] for e in first["items"]] == ["mapping:product:220", "mapping:product:210"]
    second = (
        await api.get(
            "/v1/audit",
            params={"subject": "mapping", "limit": 2, "before": first["next_before"]},
            headers=tenant.headers,
        )
    ).json()
    assert [e["subject"] for e in second["items"]] == ["mapping:product:200"]
    assert second["next_before"] is None
    # A prefix is a whole segment: "mapp" is no subject.
    assert (await api.get("/v1/audit", params={"subject": "mapp"}, headers=tenant.headers)).json()[
        "items"
    ] == []
