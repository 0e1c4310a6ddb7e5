"""Limits (minute, day, concurrent, app minute), idempotency keys and injected faults, in-process."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from ledgerbridge.sandbox.xero.faults import FaultPlan
from ledgerbridge.sandbox.xero.testing import SandboxClient

Factory = Callable[..., Awaitable[SandboxClient]]


def contact(name: str) -> dict[str, Any]:
    return {"Contacts": [{"Name": name, "EmailAddress": f"{name.lower().replace(' ', '.')}@example.com"}]}


def sale(number: str) -> dict[str, Any]:
    return {
        "Invoices": [
            {
                "Type": "ACCREC",
                "Contact": {"Name": "City Agency"},
                "Date": "2024-04-01",
                "Status": "AUTHORISED",
                "InvoiceNumber": number,
                "LineItems": [
                    {
                        "Description": "x",
                        "Quantity": 1,
                        "UnitAmount": 10,
                        "AccountCode": "200",
                        "TaxType": "OUTPUT",
                    }
                ],
            }
        ]
    }


async def test_limit_headers_and_minute_limit(make_sandbox: Factory) -> None:
    sandbox = await make_sandbox(minute_limit=3, minute_window_seconds=0.4)
    org = await sandbox.new_org()
    first = await sandbox.call("GET", "Organisation", org)
    assert first.headers["X-MinLimit-Remaining"] == "2"
    assert first.headers["X-DayLimit-Remaining"] == "4999"
    assert int(first.headers["X-AppMinLimit-Remaining"]) == 9999
    await sandbox.call("GET", "Organisation", org)
    await sandbox.call("GET", "Organisation", org)
    limited = await sandbox.call("GET", "Organisation", org)
    assert limited.status_code == 429
    assert limited.headers["X-Rate-Limit-Problem"] == "minute"
    assert int(limited.headers["Retry-After"]) >= 1
    other = await sandbox.new_org()
    assert (
        await sandbox.call("GET", "Organisation", other)
    ).status_code == 200  # limits are per organisation
    await asyncio.sleep(0.45)
    assert (await sandbox.call("GET", "Organisation", org)).status_code == 200
    counters = (await sandbox.client.get("/_sandbox/counters")).json()
    assert counters["organisations"][org]["rate_limited"] == 1
    assert counters["organisations"][org]["calls"] == 4
    assert counters["rate_limited_total"] == 1


async def test_day_limit_problem(make_sandbox: Factory) -> None:
    sandbox = await make_sandbox(day_limit=2, day_window_seconds=3600)
    org = await sandbox.new_org()
    await sandbox.call("GET", "Organisation", org)
    await sandbox.call("GET", "Organisation", org)
    limited = await sandbox.call("GET", "Organisation", org)
    assert limited.status_code == 429
    assert limited.headers["X-Rate-Limit-Problem"] == "day"
    assert 3590 <= int(limited.headers["Retry-After"]) <= 3600
    assert limited.headers["X-DayLimit-Remaining"] == "0"
    await sandbox.client.post("/_sandbox/clock/advance", json={"seconds": 3601})
    assert (await sandbox.call("GET", "Organisation", org)).status_code == 401  # the access token aged too
    await sandbox.login()
    assert (await sandbox.call("GET", "Organisation", org)).status_code == 200


async def test_app_minute_limit_spans_organisations(make_sandbox: Factory) -> None:
    sandbox = await make_sandbox(app_minute_limit=2)
    first, second = await sandbox.new_org(), await sandbox.new_org()
    await sandbox.call("GET", "Organisation", first)
    await sandbox.call("GET", "Organisation", second)
    limited = await sandbox.call("GET", "Organisation", first)
    assert limited.status_code == 429
    assert limited.headers["X-Rate-Limit-Problem"] == "appminute"


async def test_concurrency_limit(make_sandbox: Factory) -> None:
    sandbox = await make_sandbox(concurrent_limit=2, latency_ms=150)
    org = await sandbox.new_org()
    responses = await asyncio.gather(*(sandbox.call("GET", "Organisation", org) for _ in range(5)))
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200, 200, 429, 429, 429]
    problems = {r.headers.get("X-Rate-Limit-Problem") for r in responses if r.status_code == 429}
    assert problems == {"concurrent"}
    assert (await sandbox.call("GET", "Organisation", org)).status_code == 200


async def test_limit_override_control(sandbox: SandboxClient, org: str) -> None:
    response = await sandbox.client.post("/_sandbox/limits", json={"tenant_id": org, "day_limit": 1})
    assert response.json()["day_limit"] == 1
    await sandbox.call("GET", "Organisation", org)
    assert (await sandbox.call("GET", "Organisation", org)).headers["X-Rate-Limit-Problem"] == "day"


async def test_idempotency_key_replays_first_response(sandbox: SandboxClient, org: str) -> None:
    key = {"Idempotency-Key": "batch-7f1c"}
    first = await sandbox.call("PUT", "Invoices", org, sale("ID-1"), headers=key)
    again = await sandbox.call("PUT", "Invoices", org, sale("ID-1"), headers=key)
    assert first.status_code == again.status_code == 200
    assert again.json()["Invoices"][0]["InvoiceID"] == first.json()["Invoices"][0]["InvoiceID"]
    assert len((await sandbox.call("GET", "Invoices", org)).json()["Invoices"]) == 1
    assert (await sandbox.client.get("/_sandbox/counters")).json()["idempotent_replays"] == 1
    without_key = await sandbox.call("PUT", "Invoices", org, sale("ID-1"))
    assert without_key.status_code == 400  # a blind re-send without the key hits the unique number rule


async def test_idempotency_key_expires_and_is_length_checked(make_sandbox: Factory) -> None:
    sandbox = await make_sandbox(idempotency_retention_seconds=60)
    org = await sandbox.new_org()
    too_long = await sandbox.call(
        "PUT", "Contacts", org, contact("Long Key"), headers={"Idempotency-Key": "k" * 129}
    )
    assert too_long.status_code == 400
    ok = await sandbox.call(
        "PUT", "Contacts", org, contact("Max Key"), headers={"Idempotency-Key": "k" * 128}
    )
    assert ok.status_code == 200
    await sandbox.client.post("/_sandbox/clock/advance", json={"seconds": 61})
    replay = await sandbox.call(
        "PUT", "Contacts", org, contact("Max Key"), headers={"Idempotency-Key": "k" * 128}
    )
    assert replay.status_code == 400  # the key is forgotten, so the name clash shows
    other_body = await sandbox.call(
        "PUT", "Contacts", org, contact("Other"), headers={"Idempotency-Key": "k" * 128}
    )
    assert other_body.status_code == 400


async def test_injected_429_and_5xx(sandbox: SandboxClient, org: str) -> None:
    await sandbox.client.post("/_sandbox/faults", json={"tenant_id": org, "script": ["429", "500", "503"]})
    first = await sandbox.call("GET", "Organisation", org)
    assert first.status_code == 429
    assert first.headers["Retry-After"] == "1"
    assert first.headers["X-Rate-Limit-Problem"] == "minute"
    assert (await sandbox.call("GET", "Organisation", org)).status_code == 500
    assert (await sandbox.call("GET", "Organisation", org)).status_code == 503
    assert (await sandbox.call("GET", "Organisation", org)).status_code == 200
    faults = (await sandbox.client.get("/_sandbox/faults")).json()[org]
    assert faults["injected"] == {"429": 1, "500": 1, "503": 1}


async def test_injected_5xx_does_not_commit(sandbox: SandboxClient, org: str) -> None:
    await sandbox.client.post(
        "/_sandbox/faults", json={"tenant_id": org, "script": ["500"], "methods": ["PUT"]}
    )
    assert (await sandbox.call("GET", "Invoices", org)).status_code == 200  # GETs are not affected
    assert (await sandbox.call("PUT", "Invoices", org, sale("F-1"))).status_code == 500
    assert (await sandbox.call("GET", "Invoices", org)).json()["Invoices"] == []


async def test_slow_fault(sandbox: SandboxClient, org: str) -> None:
    await sandbox.client.post(
        "/_sandbox/faults", json={"tenant_id": org, "script": ["slow"], "slow_seconds": 0.3}
    )
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert (await sandbox.call("GET", "Organisation", org)).status_code == 200
    assert loop.time() - started >= 0.3


async def test_committed_but_response_lost(sandbox: SandboxClient, org: str) -> None:
    await sandbox.client.post("/_sandbox/faults", json={"tenant_id": org, "script": ["lost_response"]})
    with pytest.raises(httpx.TransportError):
        await sandbox.call("PUT", "Invoices", org, sale("LOST-1"), headers={"Idempotency-Key": "lost-1"})
    stored = (await sandbox.call("GET", "Invoices", org, params={"InvoiceNumbers": "LOST-1"})).json()[
        "Invoices"
    ]
    assert len(stored) == 1  # the document exists although the client saw an error
    retry = await sandbox.call("PUT", "Invoices", org, sale("LOST-1"), headers={"Idempotency-Key": "lost-1"})
    assert retry.status_code == 200
    assert retry.json()["Invoices"][0]["InvoiceID"] == stored[0]["InvoiceID"]


def test_seeded_fault_draws_repeat() -> None:
    def draws(seed: int) -> list[str | None]:
        plan = FaultPlan(seed=seed, rate_429=0.2, rate_5xx=0.2, rate_slow=0.1, rate_lost_response=0.1)
        return [plan.draw("PUT") for _ in range(200)]

    assert draws(7) == draws(7)
    assert draws(7) != draws(8)
    kinds = set(draws(7))
    assert {"429", "slow", "lost_response", None} <= kinds
    assert kinds & {"500", "503"}


async def test_random_fault_rates_through_the_api(sandbox: SandboxClient, org: str) -> None:
    await sandbox.client.post("/_sandbox/faults", json={"tenant_id": org, "seed": 3, "rate_5xx": 0.5})
    statuses = [(await sandbox.call("GET", "Organisation", org)).status_code for _ in range(30)]
    assert 5 < sum(status >= 500 for status in statuses) < 25
    await sandbox.client.delete("/_sandbox/faults", params={"tenant_id": org})
    assert all([(await sandbox.call("GET", "Organisation", org)).status_code == 200 for _ in range(5)])


async def test_reset_restores_seed(sandbox: SandboxClient, org: str) -> None:
    await sandbox.call("PUT", "Invoices", org, sale("RS-1"))
    response = await sandbox.client.post("/_sandbox/reset")
    assert response.status_code == 200
    assert org not in sandbox.state.orgs
    assert len(response.json()["organisations"]) == 3
