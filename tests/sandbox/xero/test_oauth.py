"""Identity: authorize/token with PKCE, refresh rotation and its grace window, revocation, connections."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ledgerbridge.sandbox.xero.seed import demo_tenant_id
from ledgerbridge.sandbox.xero.testing import REDIRECT, SandboxClient, pkce_pair


async def test_login_returns_xero_token_set(sandbox: SandboxClient) -> None:
    tokens = await sandbox.login()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 1800
    assert tokens["refresh_token"]
    assert tokens["access_token"].count(".") == 2  # JWT-looking
    assert "accounting.invoices" in tokens["scope"].split()


async def test_without_offline_access_there_is_no_refresh_token(sandbox: SandboxClient) -> None:
    tokens = await sandbox.login(scope="openid accounting.invoices")
    assert "refresh_token" not in tokens


async def test_pkce_verifier_mismatch_is_invalid_grant(sandbox: SandboxClient) -> None:
    _, challenge = pkce_pair()
    code = await sandbox.authorize(challenge=challenge)
    response = await sandbox.token(
        grant_type="authorization_code", code=code, redirect_uri=REDIRECT, code_verifier="wrong-verifier"
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


async def test_pkce_missing_verifier_and_code_reuse_fail(sandbox: SandboxClient) -> None:
    verifier, challenge = pkce_pair()
    code = await sandbox.authorize(challenge=challenge)
    missing = await sandbox.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert missing.json()["error"] == "invalid_grant"
    ok = await sandbox.token(
        grant_type="authorization_code", code=code, redirect_uri=REDIRECT, code_verifier=verifier
    )
    assert ok.status_code == 200
    reused = await sandbox.token(
        grant_type="authorization_code", code=code, redirect_uri=REDIRECT, code_verifier=verifier
    )
    assert reused.json()["error"] == "invalid_grant"


async def test_client_auth_by_form_and_bad_secret(sandbox: SandboxClient) -> None:
    code = await sandbox.authorize()
    bad = await sandbox.client.post(
        "/identity/connect/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": "sandbox-client",
            "client_secret": "nope",
        },
    )
    assert bad.status_code == 400
    assert bad.json()["error"] == "invalid_client"
    good = await sandbox.client.post(
        "/identity/connect/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": "sandbox-client",
            "client_secret": "sandbox-secret",
        },
    )
    assert good.status_code == 200


async def test_authorize_rejects_foreign_redirect_and_unknown_client(sandbox: SandboxClient) -> None:
    foreign = await sandbox.client.get(
        "/identity/connect/authorize",
        params={
            "response_type": "code",
            "client_id": "sandbox-client",
            "redirect_uri": "https://evil.example/cb",
            "scope": "openid",
        },
    )
    assert foreign.status_code == 400
    unknown = await sandbox.client.get(
        "/identity/connect/authorize",
        params={"response_type": "code", "client_id": "who", "redirect_uri": REDIRECT, "scope": "openid"},
    )
    assert unknown.status_code == 400


async def test_redirect_uri_must_match_at_token_step(sandbox: SandboxClient) -> None:
    code = await sandbox.authorize()
    response = await sandbox.token(
        grant_type="authorization_code", code=code, redirect_uri="http://127.0.0.1:9/other"
    )
    assert response.json()["error"] == "invalid_grant"


async def test_refresh_rotates_and_old_token_is_invalid_once_new_one_used(sandbox: SandboxClient) -> None:
    first = await sandbox.login()
    second = (await sandbox.token(grant_type="refresh_token", refresh_token=first["refresh_token"])).json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    third = await sandbox.token(grant_type="refresh_token", refresh_token=second["refresh_token"])
    assert third.status_code == 200
    # The first token's child has now been used: reusing the first is the classic invalid_grant.
    replay = await sandbox.token(grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert replay.status_code == 400
    assert replay.json() == {
        "error": "invalid_grant",
        "error_description": replay.json()["error_description"],
    }
    assert sandbox.state.refresh_counts["sandbox-client"] == 2


async def test_lost_refresh_response_can_be_retried_within_grace(sandbox: SandboxClient) -> None:
    first = await sandbox.login()
    lost = (await sandbox.token(grant_type="refresh_token", refresh_token=first["refresh_token"])).json()
    retry = await sandbox.token(grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert retry.status_code == 200
    assert retry.json()["refresh_token"] == lost["refresh_token"]
    onward = await sandbox.token(grant_type="refresh_token", refresh_token=retry.json()["refresh_token"])
    assert onward.status_code == 200
    assert sandbox.state.refresh_counts["sandbox-client"] == 3


async def test_grace_window_is_enforced(make_sandbox: Callable[..., Awaitable[SandboxClient]]) -> None:
    sandbox = await make_sandbox(refresh_grace_seconds=60)
    first = await sandbox.login()
    await sandbox.token(grant_type="refresh_token", refresh_token=first["refresh_token"])
    await sandbox.client.post("/_sandbox/clock/advance", json={"seconds": 61})
    late = await sandbox.token(grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert late.status_code == 400
    assert late.json()["error"] == "invalid_grant"


async def test_refresh_token_expires_when_unused(
    make_sandbox: Callable[..., Awaitable[SandboxClient]],
) -> None:
    sandbox = await make_sandbox(refresh_token_ttl_seconds=100)
    tokens = await sandbox.login()
    await sandbox.client.post("/_sandbox/clock/advance", json={"seconds": 101})
    response = await sandbox.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert response.json()["error"] == "invalid_grant"


async def test_access_tokens_expire(sandbox: SandboxClient) -> None:
    tenant = demo_tenant_id("AU")
    assert (await sandbox.call("GET", "Organisation", tenant)).status_code == 200
    expired = await sandbox.client.post("/_sandbox/tokens/expire")
    assert expired.json()["expired"] >= 1
    response = await sandbox.call("GET", "Organisation", tenant)
    assert response.status_code == 401
    assert response.json()["Title"] == "Unauthorized"


async def test_revocation_kills_refresh_and_access_tokens(sandbox: SandboxClient) -> None:
    tokens = await sandbox.login()
    revoke = await sandbox.client.post(
        "/identity/connect/revocation",
        data={"token": tokens["refresh_token"]},
        auth=("sandbox-client", "sandbox-secret"),
    )
    assert revoke.status_code == 200
    refresh = await sandbox.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refresh.json()["error"] == "invalid_grant"
    assert (await sandbox.call("GET", "Organisation", demo_tenant_id("AU"))).status_code == 401


async def test_connections_list_and_disconnect(sandbox: SandboxClient) -> None:
    auth = {"Authorization": f"Bearer {sandbox.access_token}"}
    listed: list[dict[str, Any]] = (await sandbox.client.get("/connections", headers=auth)).json()
    assert {entry["tenantId"] for entry in listed} == {demo_tenant_id(c) for c in ("AU", "UK", "US")}
    entry = next(entry for entry in listed if entry["tenantId"] == demo_tenant_id("UK"))
    assert entry["tenantType"] == "ORGANISATION"
    assert entry["tenantName"] == "Demo Company (UK)"
    assert set(entry) == {
        "id",
        "authEventId",
        "tenantId",
        "tenantType",
        "tenantName",
        "createdDateUtc",
        "updatedDateUtc",
    }
    deleted = await sandbox.client.delete(f"/connections/{entry['id']}", headers=auth)
    assert deleted.status_code == 204
    after = (await sandbox.client.get("/connections", headers=auth)).json()
    assert demo_tenant_id("UK") not in {item["tenantId"] for item in after}
    assert (await sandbox.call("GET", "Organisation", demo_tenant_id("UK"))).status_code == 403
    assert (await sandbox.client.get("/connections")).status_code == 401


async def test_consent_can_grant_chosen_fresh_organisations(sandbox: SandboxClient) -> None:
    created = await sandbox.client.post(
        "/_sandbox/organisations", json={"country": "UK", "name": "Fresh Ltd"}
    )
    tenant = created.json()["tenantId"]
    await sandbox.client.post("/_sandbox/consent", json={"tenant_ids": [tenant]})
    verifier, challenge = pkce_pair()
    code = await sandbox.authorize(challenge=challenge)
    tokens = (
        await sandbox.token(
            grant_type="authorization_code", code=code, redirect_uri=REDIRECT, code_verifier=verifier
        )
    ).json()
    listed = (
        await sandbox.client.get(
            "/connections", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
    ).json()
    events = {entry["tenantId"]: entry["authEventId"] for entry in listed}
    assert tenant in events
    newest = events[tenant]
    assert [t for t, event in events.items() if event == newest] == [tenant]
    sandbox.access_token = tokens["access_token"]
    org = (await sandbox.call("GET", "Organisation", tenant)).json()["Organisations"][0]
    assert org["Name"] == "Fresh Ltd"
    assert org["BaseCurrency"] == "GBP"


async def test_scopes_are_enforced(sandbox: SandboxClient) -> None:
    await sandbox.login(scope="offline_access accounting.contacts.read accounting.settings.read")
    tenant = demo_tenant_id("AU")
    assert (await sandbox.call("GET", "Contacts", tenant)).status_code == 200
    assert (await sandbox.call("PUT", "Contacts", tenant, {"Contacts": [{"Name": "X"}]})).status_code == 401
    assert (await sandbox.call("GET", "Invoices", tenant)).status_code == 401


async def test_accounting_needs_token_and_tenant(sandbox: SandboxClient) -> None:
    no_token = await sandbox.client.get(
        "/api.xro/2.0/Invoices", headers={"xero-tenant-id": demo_tenant_id("AU")}
    )
    assert no_token.status_code == 401
    assert no_token.json()["Detail"] == "AuthenticationUnsuccessful"
    no_tenant = await sandbox.client.get(
        "/api.xro/2.0/Invoices", headers={"Authorization": f"Bearer {sandbox.access_token}"}
    )
    assert no_tenant.status_code == 403
    wrong = await sandbox.call("GET", "Invoices", "00000000-0000-0000-0000-000000000000")
    assert wrong.status_code == 403
    assert wrong.json()["Title"] == "Forbidden"
