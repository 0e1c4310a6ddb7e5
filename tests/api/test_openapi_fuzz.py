"""Schemathesis over our own OpenAPI: generated requests to every operation, as a signed-in owner.

No input may produce a 5xx, and every response must match the schema the docs publish for it.

In ``make test`` the run is deterministic (derandomized, no example database): the same cases every
time. ``make fuzz`` sets ``LEDGERBRIDGE_FUZZ_EXAMPLES`` for a longer randomized run and prints the
operations tried, the cases run and the failures.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from pydantic import SecretStr
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from ledgerbridge.api.app import create_app
from ledgerbridge.cli.sandboxes import sandbox_environment
from ledgerbridge.common.settings import Settings
from ledgerbridge.sandbox.onport.app import create_app as create_onport
from ledgerbridge.sandbox.ontraport.app import create_app as create_ontraport
from ledgerbridge.sandbox.ontraport.config import OntraportSandboxConfig
from ledgerbridge.sandbox.server import serve_in_thread
from ledgerbridge.sandbox.xero.app import create_app as create_xero

OWNER = {"email": "fuzz-owner@example.com", "password": "a long fuzzing secret", "company": "Fuzz Ltd"}


@pytest.fixture(scope="module")
def served_api(module_settings: Settings) -> Iterator[tuple[str, dict[str, str]]]:
    with serve_in_thread(create_app(module_settings)) as url:
        httpx.post(f"{url}/v1/auth/signup", json=OWNER, timeout=30)
        token = httpx.post(
            f"{url}/v1/auth/token",
            data={"username": OWNER["email"], "password": OWNER["password"]},
            timeout=30,
        ).json()["access_token"]
        yield url, {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def partners() -> Iterator[dict[str, str]]:
    """The partner APIs answer, as in production: a 5xx from us must never be the partner's fault here."""
    with (
        serve_in_thread(create_xero()) as xero,
        serve_in_thread(create_ontraport(OntraportSandboxConfig(transactions=5))) as ontraport,
        serve_in_thread(create_onport()) as onport,
    ):
        yield sandbox_environment(xero, ontraport, onport)


@pytest.fixture(scope="module")
def module_settings(
    database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory, partners: dict[str, str]
) -> Settings:
    configured = Settings()
    for name, value in partners.items():
        group, _, field = name.lower().partition("_")
        setattr(getattr(configured, group), field, value)
    configured.xero.client_secret = SecretStr(partners["XERO_CLIENT_SECRET"])
    configured.xero.redirect_uri = "http://127.0.0.1:8000/v1/connections/xero/callback"
    configured.database.url = database_url
    configured.redis.url = redis_url
    # A namespace per run: the rate-limit counters of an earlier run (same address) must not carry over.
    configured.queue.prefix = f"lbtest-fuzz-{uuid.uuid4().hex[:8]}"
    configured.runtime.data_dir = tmp_path_factory.mktemp("fuzz-data")
    configured.security.secret_key = SecretStr("fuzz-secret-long-enough-for-hs256-keys")
    return configured


# The published schema needs no running app; the calls go to the instance served above.
schema = schemathesis.openapi.from_dict(create_app(Settings()).openapi())

FUZZ_EXAMPLES = int(os.environ.get("LEDGERBRIDGE_FUZZ_EXAMPLES") or 0)
"""0: the deterministic run of ``make test``; more: ``make fuzz``'s randomized run of this many per operation."""

_operations: set[str] = set()
_failures: list[str] = []
_cases = 0


def fuzz_summary() -> list[str]:
    """What the run did; printed at the end of the run by ``tests/api/conftest.py``."""
    if not _cases:
        return []
    mode = f"randomized, {FUZZ_EXAMPLES} examples per operation" if FUZZ_EXAMPLES else "deterministic"
    return [
        f"fuzz ({mode}): {len(_operations)} operations tried, {_cases} cases run, {len(_failures)} failures",
        *(f"  failure: {failure}" for failure in _failures),
    ]


@schema.parametrize()
@hypothesis_settings(
    max_examples=FUZZ_EXAMPLES or 8,
    deadline=None,
    derandomize=not FUZZ_EXAMPLES,
    database=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_no_input_breaks_the_api_or_its_published_schema(
    case: Any, served_api: tuple[str, dict[str, str]]
) -> None:
    global _cases
    url, headers = served_api
    operation = f"{case.operation.method.upper()} {case.operation.path}"
    _operations.add(operation)
    _cases += 1
    try:
        case.call_and_validate(
            base_url=url,
            headers=headers,
            checks=[not_a_server_error, response_schema_conformance],
            timeout=30,
        )
    except Exception as failure:
        if operation not in {item.split(": ")[0] for item in _failures}:
            _failures.append(f"{operation}: {str(failure).splitlines()[0][:200]}")
        raise
