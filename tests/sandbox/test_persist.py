"""With SANDBOX_STATE_DIR the sandboxes keep their state across restarts, as `ledgerbridge run` needs."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import pytest

from ledgerbridge.sandbox.registry import create_sandbox_app
from ledgerbridge.sandbox.server import serve_in_thread
from ledgerbridge.sandbox.xero.seed import demo_tenant_id

BASIC = "Basic " + base64.b64encode(b"sandbox-client:sandbox-secret").decode()


def test_xero_tokens_and_documents_survive_a_restart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANDBOX_STATE_DIR", str(tmp_path))
    tenant = demo_tenant_id("AU")
    with serve_in_thread(create_sandbox_app("xero")) as url:
        tokens = httpx.post(f"{url}/_sandbox/tokens", json={"tenant_ids": [tenant]}).json()
        contact = httpx.put(
            f"{url}/api.xro/2.0/Contacts",
            json={"Contacts": [{"Name": "Kept Across Restarts"}]},
            headers={"Authorization": f"Bearer {tokens['access_token']}", "xero-tenant-id": tenant},
        )
        assert contact.status_code == 200, contact.text
    assert (tmp_path / "xero.pickle").is_file()

    with serve_in_thread(create_sandbox_app("xero")) as url:
        # The refresh token issued before the restart still rotates, and the contact is still there.
        refreshed = httpx.post(
            f"{url}/identity/connect/token",
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
            headers={"Authorization": BASIC},
        )
        assert refreshed.status_code == 200, refreshed.text
        names = httpx.get(
            f"{url}/api.xro/2.0/Contacts",
            headers={"Authorization": f"Bearer {refreshed.json()['access_token']}", "xero-tenant-id": tenant},
        ).json()["Contacts"]
        assert "Kept Across Restarts" in {c["Name"] for c in names}


def test_without_the_setting_nothing_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SANDBOX_STATE_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    with serve_in_thread(create_sandbox_app("onport")) as url:
        assert httpx.get(f"{url}/_sandbox/health").status_code == 200
    assert list(tmp_path.iterdir()) == []


def test_onport_and_ontraport_accounts_survive_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SANDBOX_STATE_DIR", str(tmp_path))
    with serve_in_thread(create_sandbox_app("onport")) as url:
        added = httpx.post(f"{url}/_sandbox/accounts/1/purchase-invoices", json={"count": 1}).json()
    with serve_in_thread(create_sandbox_app("onport")) as url:
        invoice = httpx.get(
            f"{url}/purchase-invoices/{added['invoice_ids'][0]}.json",
            headers={"Authorization": "Bearer sandbox-token"},
        )
        assert invoice.status_code == 200, invoice.text
    counts = []
    for restart in range(2):
        with serve_in_thread(create_sandbox_app("ontraport")) as url:
            if restart == 0:
                made = httpx.post(f"{url}/_sandbox/accounts", json={"seed": 5, "transactions": 3}).json()
            count = httpx.get(
                f"{url}/Transactions/getInfo",
                headers={"Api-Appid": made["app_id"], "Api-Key": made["api_key"]},
            )
            assert count.status_code == 200, count.text  # the account made before the restart is known
            counts.append(count.json()["data"]["count"])
    assert counts[0] == counts[1]
