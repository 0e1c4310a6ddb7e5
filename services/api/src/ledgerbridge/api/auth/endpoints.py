"""Sign-up, sign-in, token refresh, the signed-in user, and inviting users."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from ledgerbridge.api.audit.dependencies import AuditDep
from ledgerbridge.api.auth import repository, service
from ledgerbridge.api.auth.dependencies import CurrentUser, OwnerUser
from ledgerbridge.api.auth.rate_limit import FixedWindowLimiter, SignInLimits
from ledgerbridge.api.auth.schemas import (
    AccountOut,
    InviteIn,
    Me,
    PasswordChangeIn,
    PasswordResetIn,
    RefreshIn,
    RoleIn,
    SignupIn,
    TokenPair,
    UserList,
    UserOut,
)
from ledgerbridge.api.dependencies import PlatformDep, Session
from ledgerbridge.api.problems import ProblemError, problem_responses
from ledgerbridge.common.database import unit_of_work

router = APIRouter(prefix="/v1", tags=["auth"])


def client_address(request: Request) -> str:
    """The peer's address; a forwarded one only from API_TRUSTED_PROXIES (resolved by the app's middleware)."""
    return request.client.host if request.client else "unknown"


@router.post(
    "/auth/signup",
    summary="Create an account (on the trial plan) and its owner",
    status_code=status.HTTP_201_CREATED,
    response_model=UserOut,
    responses=problem_responses(409, 422, 429),
)
async def signup(body: SignupIn, request: Request, session: Session, platform: PlatformDep) -> UserOut:
    limits = platform.settings.api
    # Each sign-up costs an argon2 hash and makes an account: a few an hour from one address.
    await FixedWindowLimiter(
        platform.transport.redis,
        platform.settings.queue.prefix,
        "signup",
        limits.signups_per_address,
        3600,
        what="sign-ups from this address",
    ).hit(address=client_address(request))
    return UserOut.model_validate(await service.signup(session, body))


@router.post(
    "/auth/token",
    summary="Sign in with e-mail and password (OAuth2 password form) for an access and a refresh token",
    response_model=TokenPair,
    responses=problem_responses(401, 422, 429),
)
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    session: Session,
    platform: PlatformDep,
) -> TokenPair:
    limits = platform.settings.api
    sign_in = SignInLimits(
        platform.transport.redis,
        platform.settings.queue.prefix,
        failures_per_address=limits.login_failures_per_address,
        failures_per_email=limits.login_failures_per_email,
        attempts_per_address=limits.login_attempts_per_address,
        window_seconds=limits.login_window_seconds,
    )
    email, address = form.username.strip().lower(), client_address(request)
    await sign_in.before_attempt(email, address)  # a locked attempt is a 429, whatever the password
    try:
        user = await service.authenticate(session, form.username, form.password)
    except ProblemError:
        await sign_in.failed(email, address)
        raise
    await sign_in.succeeded(email, address)
    return await service.issue_tokens(session, platform.secret_key, user)


@router.post(
    "/auth/refresh",
    summary="Exchange a refresh token for a new pair (the old token stops working)",
    response_model=TokenPair,
    responses=problem_responses(401, 422),
)
async def refresh(body: RefreshIn, platform: PlatformDep) -> TokenPair:
    # Its own unit of work rather than the request's: when a reused token revokes its family, that
    # revocation must commit even though the answer is a 401.
    async with unit_of_work(platform.sessions) as session:
        outcome = await service.rotate(session, platform.secret_key, body.refresh_token)
    if isinstance(outcome, service.RefreshRefused):
        raise service.unauthorized(outcome.detail)
    return outcome


@router.get(
    "/me", summary="The signed-in user and their account", response_model=Me, responses=problem_responses(401)
)
async def me(user: CurrentUser, session: Session) -> Me:
    account = await repository.account(session, user.account_id)
    return Me(**UserOut.model_validate(user).model_dump(), account=AccountOut.model_validate(account))


@router.get(
    "/users", summary="The account's users", response_model=UserList, responses=problem_responses(401)
)
async def list_users(user: CurrentUser, session: Session) -> UserList:
    users = await repository.users_of_account(session, user.account_id)
    return UserList(items=[UserOut.model_validate(item) for item in users])


@router.post(
    "/users",
    summary="Invite a user (bookkeeper or owner) to the account; owners only",
    status_code=status.HTTP_201_CREATED,
    response_model=UserOut,
    responses=problem_responses(401, 403, 409, 422),
)
async def invite_user(body: InviteIn, owner: OwnerUser, session: Session, audit: AuditDep) -> UserOut:
    invited = UserOut.model_validate(await service.invite(session, owner, body))
    await audit(
        "user.invite", f"user:{invited.id}", after={"email": invited.email, "role": str(invited.role)}
    )
    return invited


@router.put(
    "/me/password",
    summary="Change your password; every other session of yours ends, a new token pair is returned",
    response_model=TokenPair,
    responses=problem_responses(401, 422),
)
async def change_password(
    body: PasswordChangeIn, user: CurrentUser, session: Session, platform: PlatformDep, audit: AuditDep
) -> TokenPair:
    pair = await service.change_own_password(session, platform.secret_key, user, body)
    await audit("user.change_password", f"user:{user.id}", after={"password": "changed"})
    return pair


@router.patch(
    "/users/{user_id}",
    summary="Change a user's role; owners only (the account keeps at least one owner)",
    response_model=UserOut,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def change_role(
    user_id: uuid.UUID, body: RoleIn, owner: OwnerUser, session: Session, audit: AuditDep
) -> UserOut:
    before = await repository.user_in_account(session, owner.account_id, user_id)
    old_role = str(before.role) if before else None
    changed = UserOut.model_validate(await service.change_role(session, owner, user_id, body))
    await audit(
        "user.change_role", f"user:{user_id}", before={"role": old_role}, after={"role": str(changed.role)}
    )
    return changed


@router.delete(
    "/users/{user_id}",
    summary="Remove a user; owners only. Their sessions end at once, access tokens included",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_responses(401, 403, 404, 409),
)
async def remove_user(user_id: uuid.UUID, owner: OwnerUser, session: Session, audit: AuditDep) -> None:
    before = await repository.user_in_account(session, owner.account_id, user_id)
    removed = {"email": before.email, "role": str(before.role)} if before else None
    await service.remove_user(session, owner, user_id)
    await audit("user.remove", f"user:{user_id}", before=removed)


@router.put(
    "/users/{user_id}/password",
    summary="Set a new password for a user; owners only. Their sessions end at once",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_responses(401, 403, 404, 422),
)
async def reset_password(
    user_id: uuid.UUID, body: PasswordResetIn, owner: OwnerUser, session: Session, audit: AuditDep
) -> None:
    await service.reset_password(session, owner, user_id, body)
    await audit("user.reset_password", f"user:{user_id}", after={"password": "reset"})
