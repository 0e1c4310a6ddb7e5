"""Sign-up, sign-in, refresh rotation, the signed-in user, rate limits and roles."""

from __future__ import annotations

import uuid

import httpx
import jwt
from asgi_lifespan import LifespanManager
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledgerbridge.api.app import create_app
from ledgerbridge.common import local_secrets
from ledgerbridge.common.models import Account, RefreshToken, User
from ledgerbridge.common.settings import Settings
from tests.api.conftest import PASSWORD, MakeTenant, sign_in


async def test_signup_creates_a_trial_account_with_its_owner(
    api: httpx.AsyncClient, committing: async_sessionmaker[AsyncSession]
) -> None:
    response = await api.post(
        "/v1/auth/signup",
        json={"email": "Owner@Example.com", "password": PASSWORD, "company": "Acme Pty Ltd"},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "owner@example.com"
    assert body["role"] == "owner"
    assert "password" not in response.text and "hash" not in response.text
    async with committing() as session:
        account = await session.get_one(Account, uuid.UUID(body["account_id"]))
        user = await session.get_one(User, uuid.UUID(body["id"]))
    assert (account.company, account.plan, account.trial_limit) == ("Acme Pty Ltd", "trial", 20)
    assert user.password_hash.startswith("$argon2id$")


async def test_signup_rejects_a_taken_email_and_a_short_password(
    api: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    again = await api.post(
        "/v1/auth/signup", json={"email": tenant.email.upper(), "password": PASSWORD, "company": "Other"}
    )
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    short = await api.post(
        "/v1/auth/signup", json={"email": "x@example.com", "password": "short", "company": "X"}
    )
    assert short.status_code == 422
    assert short.json()["errors"][0]["loc"] == ["body", "password"]


async def test_token_is_a_short_lived_signed_jwt_for_me(
    api: httpx.AsyncClient, make_tenant: MakeTenant, settings: Settings
) -> None:
    tenant = await make_tenant(company="Acme")
    tokens = await sign_in(api, tenant.email)
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 900
    claims = jwt.decode(
        tokens["access_token"],
        local_secrets.secret_key(settings),
        algorithms=["HS256"],
        audience="ledgerbridge-api",
    )
    assert claims["sub"] == str(tenant.user_id)
    assert claims["exp"] - claims["iat"] == 900

    me = await api.get("/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200
    assert me.json()["email"] == tenant.email
    assert me.json()["account"] == {"id": str(tenant.account_id), "company": "Acme", "plan": "trial"}


async def test_wrong_password_and_unknown_user_are_the_same_401(
    api: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    wrong = await api.post("/v1/auth/token", data={"username": tenant.email, "password": "not the password"})
    unknown = await api.post("/v1/auth/token", data={"username": "nobody@example.com", "password": PASSWORD})
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.json()["detail"] == "Wrong e-mail or password"


async def test_me_needs_a_valid_token(
    api: httpx.AsyncClient, make_tenant: MakeTenant, settings: Settings
) -> None:
    tenant = await make_tenant()
    assert (await api.get("/v1/me")).status_code == 401
    assert (await api.get("/v1/me", headers={"Authorization": "Bearer garbage"})).status_code == 401
    forged = jwt.encode(
        {"sub": str(tenant.user_id), "acc": str(tenant.account_id), "role": "owner", "iat": 0, "exp": 2**31},
        "not our key, but long enough to sign with",
        algorithm="HS256",
    )
    response = await api.get("/v1/me", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401
    assert response.json()["title"] == "Not authenticated"


async def test_refresh_rotates_and_a_reused_token_revokes_the_sign_in(
    api: httpx.AsyncClient, make_tenant: MakeTenant, committing: async_sessionmaker[AsyncSession]
) -> None:
    tenant = await make_tenant()
    first = await sign_in(api, tenant.email)
    second = await api.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert (
        await api.get("/v1/me", headers={"Authorization": f"Bearer {rotated['access_token']}"})
    ).status_code == 200

    replay = await api.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401
    assert "already used" in replay.json()["detail"]
    # The replay ended the whole sign-in: the token handed out by the rotation no longer works either.
    after = await api.post("/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert after.status_code == 401
    async with committing() as session:
        live = await session.scalar(
            select(func.count()).select_from(RefreshToken).where(RefreshToken.revoked_at.is_(None))
        )
    assert live == 1  # the fixture's own sign-in only
    assert (await api.post("/v1/auth/refresh", json={"refresh_token": "made-up"})).status_code == 401


async def test_a_strangers_failures_do_not_lock_the_owner_out_of_their_own_address(
    settings: Settings, make_tenant: MakeTenant
) -> None:
    """Finding 6: failures count per e-mail and client address; a locked attempt is 429 whatever the
    password; a higher per-e-mail ceiling holds across addresses."""
    settings.api.trusted_proxies = "127.0.0.1"
    settings.api.login_failures_per_email = 15
    app = create_app(settings)
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client,
    ):
        created = await client.post(
            "/v1/auth/signup", json={"email": "owner@example.com", "password": PASSWORD, "company": "A"}
        )
        assert created.status_code == 201

        async def attempt(password: str, address: str) -> httpx.Response:
            return await client.post(
                "/v1/auth/token",
                data={"username": "owner@example.com", "password": password},
                headers={"X-Forwarded-For": address},
            )

        stranger = [(await attempt("guess", "203.0.113.9")).status_code for _ in range(11)]
        assert stranger == [401] * 10 + [429]
        locked = await attempt(PASSWORD, "203.0.113.9")
        assert locked.status_code == 429, "the right password does not unlock a locked attempt"
        assert locked.headers["content-type"] == "application/problem+json"
        assert 1 <= int(locked.headers["Retry-After"]) <= settings.api.login_window_seconds
        assert (await attempt(PASSWORD, "198.51.100.7")).status_code == 200, "the owner is not locked out"
        # Distributed guessing: the per-e-mail ceiling (15 here) across all addresses.
        spread = [(await attempt("guess", f"192.0.2.{n}")).status_code for n in range(6)]
        assert spread == [401] * 5 + [429]
        assert (await attempt(PASSWORD, "198.51.100.7")).status_code == 429


async def test_forwarded_for_is_ignored_without_trusted_proxies(api: httpx.AsyncClient) -> None:
    """Finding 6: X-Forwarded-For from anyone used to choose the per-address bucket."""
    statuses = [
        (
            await api.post(
                "/v1/auth/token",
                data={"username": f"u{n}@example.com", "password": "guess"},
                headers={"X-Forwarded-For": f"10.0.0.{n}"},
            )
        ).status_code
        for n in range(31)
    ]
    assert statuses == [401] * 30 + [429]


async def test_sign_up_is_limited_per_address(api: httpx.AsyncClient) -> None:
    statuses = [
        (
            await api.post(
                "/v1/auth/signup",
                json={"email": f"s{n}@example.com", "password": PASSWORD, "company": "S"},
            )
        ).status_code
        for n in range(6)
    ]
    assert statuses == [201] * 5 + [429]


async def test_owner_invites_a_bookkeeper_who_cannot_invite(
    api: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    owner = await make_tenant()
    invited = await api.post(
        "/v1/users",
        json={"email": "books@example.com", "password": PASSWORD, "role": "bookkeeper"},
        headers=owner.headers,
    )
    assert invited.status_code == 201
    assert invited.json()["account_id"] == str(owner.account_id)
    assert invited.json()["role"] == "bookkeeper"

    tokens = await sign_in(api, "books@example.com")
    bookkeeper = {"Authorization": f"Bearer {tokens['access_token']}"}
    me = (await api.get("/v1/me", headers=bookkeeper)).json()
    assert (me["role"], me["account"]["id"]) == ("bookkeeper", str(owner.account_id))
    refused = await api.post(
        "/v1/users", json={"email": "x@example.com", "password": PASSWORD}, headers=bookkeeper
    )
    assert refused.status_code == 403
    assert refused.json()["title"] == "Forbidden"
    users = (await api.get("/v1/users", headers=bookkeeper)).json()["items"]
    assert sorted(user["email"] for user in users) == sorted([owner.email, "books@example.com"])


async def test_users_are_listed_per_account_only(api: httpx.AsyncClient, make_tenant: MakeTenant) -> None:
    first = await make_tenant()
    second = await make_tenant()
    listed = (await api.get("/v1/users", headers=second.headers)).json()["items"]
    assert [user["email"] for user in listed] == [second.email]
    assert first.email not in (await api.get("/v1/me", headers=second.headers)).text
