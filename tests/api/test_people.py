"""People management (issue 10, finding 7): owners change roles and remove users; removing a user or
resetting a password ends that user's sessions at once, access tokens included."""

from __future__ import annotations

import httpx

from tests.api.conftest import PASSWORD, MakeTenant, sign_in


async def _bookkeeper(api: httpx.AsyncClient, owner_headers: dict[str, str], email: str) -> str:
    created = await api.post("/v1/users", json={"email": email, "password": PASSWORD}, headers=owner_headers)
    assert created.status_code == 201, created.text
    user_id: str = created.json()["id"]
    return user_id


async def test_removing_a_user_ends_their_sessions_at_once(
    api: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    owner = await make_tenant()
    user_id = await _bookkeeper(api, owner.headers, "leaver@example.com")
    tokens = await sign_in(api, "leaver@example.com")
    theirs = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await api.get("/v1/me", headers=theirs)).status_code == 200

    assert (await api.delete(f"/v1/users/{user_id}", headers=theirs)).status_code == 403
    removed = await api.delete(f"/v1/users/{user_id}", headers=owner.headers)
    assert removed.status_code == 204
    assert (await api.get("/v1/me", headers=theirs)).status_code == 401
    refreshed = await api.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 401
    listed = (await api.get("/v1/users", headers=owner.headers)).json()["items"]
    assert [user["email"] for user in listed] == [owner.email]
    assert (await api.delete(f"/v1/users/{user_id}", headers=owner.headers)).status_code == 404


async def test_resetting_a_password_ends_sessions_access_tokens_included(
    api: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    owner = await make_tenant()
    user_id = await _bookkeeper(api, owner.headers, "reset@example.com")
    tokens = await sign_in(api, "reset@example.com")
    theirs = {"Authorization": f"Bearer {tokens['access_token']}"}
    reset = await api.put(
        f"/v1/users/{user_id}/password", json={"password": "a brand new secret"}, headers=owner.headers
    )
    assert reset.status_code == 204
    ended = await api.get("/v1/me", headers=theirs)
    assert ended.status_code == 401 and ended.headers["content-type"] == "application/problem+json"
    assert (
        await api.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    ).status_code == 401
    assert (
        await api.post("/v1/auth/token", data={"username": "reset@example.com", "password": PASSWORD})
    ).status_code == 401
    await sign_in(api, "reset@example.com", "a brand new secret")


async def test_changing_your_own_password_ends_your_other_sessions(
    api: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    owner = await make_tenant()
    other = await sign_in(api, owner.email)
    wrong = await api.put(
        "/v1/me/password",
        json={"current_password": "not it at all", "new_password": "a brand new secret"},
        headers=owner.headers,
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["loc"] == ["body", "current_password"]
    changed = await api.put(
        "/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "a brand new secret"},
        headers=owner.headers,
    )
    assert changed.status_code == 200 and changed.headers["cache-control"] == "no-store"
    fresh = {"Authorization": f"Bearer {changed.json()['access_token']}"}
    assert (await api.get("/v1/me", headers=fresh)).status_code == 200
    assert (await api.get("/v1/me", headers=owner.headers)).status_code == 401
    assert (
        await api.get("/v1/me", headers={"Authorization": f"Bearer {other['access_token']}"})
    ).status_code == 401


async def test_owners_change_roles_and_the_account_keeps_an_owner(
    api: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    owner = await make_tenant()
    user_id = await _bookkeeper(api, owner.headers, "promoted@example.com")
    theirs = {"Authorization": f"Bearer {(await sign_in(api, 'promoted@example.com'))['access_token']}"}
    assert (
        await api.patch(f"/v1/users/{user_id}", json={"role": "owner"}, headers=theirs)
    ).status_code == 403
    promoted = await api.patch(f"/v1/users/{user_id}", json={"role": "owner"}, headers=owner.headers)
    assert (promoted.status_code, promoted.json()["role"]) == (200, "owner")
    # The role is read on each request: the promoted user's existing token now acts as an owner.
    assert (
        await api.patch(f"/v1/users/{owner.user_id}", json={"role": "bookkeeper"}, headers=theirs)
    ).status_code == 200
    last = await api.patch(f"/v1/users/{user_id}", json={"role": "bookkeeper"}, headers=theirs)
    assert last.status_code == 409 and last.headers["content-type"] == "application/problem+json"
    assert (await api.delete(f"/v1/users/{user_id}", headers=theirs)).status_code == 409
    assert (
        await api.patch(f"/v1/users/{user_id}", json={"role": "admin"}, headers=theirs)
    ).status_code == 422


async def test_people_of_another_account_are_out_of_reach(
    api: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    first = await make_tenant()
    second = await make_tenant()
    for method, path, body in (
        ("DELETE", f"/v1/users/{second.user_id}", None),
        ("PATCH", f"/v1/users/{second.user_id}", {"role": "bookkeeper"}),
        ("PUT", f"/v1/users/{second.user_id}/password", {"password": "a brand new secret"}),
    ):
        response = await api.request(method, path, json=body, headers=first.headers)
        assert response.status_code == 404, (method, path)
    assert (await api.get("/v1/me", headers=second.headers)).status_code == 200
