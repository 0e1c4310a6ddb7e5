"""Accounts, users, passwords and token pairs."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.api.auth import repository
from ledgerbridge.api.auth.schemas import (
    InviteIn,
    PasswordChangeIn,
    PasswordResetIn,
    RoleIn,
    SignupIn,
    TokenPair,
)
from ledgerbridge.api.auth.tokens import (
    ACCESS_TOKEN_TTL,
    REFRESH_TOKEN_TTL,
    AccessClaims,
    hash_refresh_token,
    issue_access_token,
    new_refresh_token,
)
from ledgerbridge.api.problems import ProblemError
from ledgerbridge.common.models import Account, Plan, RefreshToken, Role, User

hasher = PasswordHasher()

WWW_AUTHENTICATE = {"WWW-Authenticate": "Bearer"}


def unauthorized(detail: str) -> ProblemError:
    return ProblemError(401, "Not authenticated", detail, headers=WWW_AUTHENTICATE)


@cache
def _dummy_hash() -> str:
    return hasher.hash("no user has this password")


async def _hash(password: str) -> str:
    # Argon2 is deliberately slow; off the event loop so one sign-in does not stall other requests.
    return await asyncio.to_thread(hasher.hash, password)


async def _verify(password_hash: str, password: str) -> bool:
    try:
        return await asyncio.to_thread(hasher.verify, password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _conflict(email: str) -> ProblemError:
    return ProblemError(409, "Conflict", f"A user with e-mail '{email}' already exists")


async def _add_user(session: AsyncSession, user: User) -> User:
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:
        # Two sign-ups with one e-mail at once: the unique index decides, the loser gets a 409.
        raise _conflict(user.email) from exc
    return user


async def signup(session: AsyncSession, data: SignupIn) -> User:
    if await repository.email_taken(session, data.email):
        raise _conflict(data.email)
    account = Account(company=data.company, plan=Plan.trial)
    session.add(account)
    await session.flush()
    return await _add_user(
        session,
        User(
            account_id=account.id, email=data.email, password_hash=await _hash(data.password), role=Role.owner
        ),
    )


async def invite(session: AsyncSession, owner: User, data: InviteIn) -> User:
    if await repository.email_taken(session, data.email):
        raise _conflict(data.email)
    return await _add_user(
        session,
        User(
            account_id=owner.account_id,
            email=data.email,
            password_hash=await _hash(data.password),
            role=data.role,
        ),
    )


async def authenticate(session: AsyncSession, email: str, password: str) -> User:
    user = await repository.user_by_email(session, email.strip().lower())
    if user is None:
        # Same work as a real check, so response times do not reveal which e-mails have accounts.
        await _verify(_dummy_hash(), password)
        raise unauthorized("Wrong e-mail or password")
    if not await _verify(user.password_hash, password):
        raise unauthorized("Wrong e-mail or password")
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = await _hash(password)
    return user


async def issue_tokens(
    session: AsyncSession, key: str, user: User, family_id: uuid.UUID | None = None
) -> TokenPair:
    now = datetime.now(UTC)
    refresh_token = new_refresh_token()
    session.add(
        RefreshToken(
            account_id=user.account_id,
            user_id=user.id,
            family_id=family_id or uuid.uuid4(),
            token_hash=hash_refresh_token(refresh_token),
            expires_at=now + REFRESH_TOKEN_TTL,
        )
    )
    await session.flush()
    access_token = issue_access_token(
        key, AccessClaims(user.id, user.account_id, user.role, user.session_version), now
    )
    return TokenPair(
        access_token=access_token,
        expires_in=int(ACCESS_TOKEN_TTL.total_seconds()),
        refresh_token=refresh_token,
    )


@dataclass(frozen=True)
class RefreshRefused:
    """Why a refresh token was not honoured. Returned, not raised: a revocation must still commit."""

    detail: str


async def rotate(session: AsyncSession, key: str, refresh_token: str) -> TokenPair | RefreshRefused:
    now = datetime.now(UTC)
    stored = await repository.refresh_token_for_update(session, hash_refresh_token(refresh_token))
    if stored is None or stored.revoked_at is not None:
        return RefreshRefused("The refresh token is not valid; sign in again")
    if stored.used_at is not None:
        # A rotated token came back: either it leaked or a client replays it. End that whole sign-in.
        await repository.revoke_family(session, stored.family_id, now)
        return RefreshRefused("The refresh token was already used; every session from it is revoked")
    if stored.expires_at <= now:
        return RefreshRefused("The refresh token has expired; sign in again")
    stored.used_at = now
    user = await repository.user_in_account(session, stored.account_id, stored.user_id)
    if user is None:
        return RefreshRefused("The refresh token is not valid; sign in again")
    return await issue_tokens(session, key, user, stored.family_id)


def _no_user(user_id: uuid.UUID) -> ProblemError:
    return ProblemError(404, "Not found", f"No user {user_id} in this account")


async def _member(session: AsyncSession, owner: User, user_id: uuid.UUID) -> User:
    user = await repository.user_in_account_for_update(session, owner.account_id, user_id)
    if user is None:
        raise _no_user(user_id)
    return user


async def _keep_an_owner(session: AsyncSession, user: User) -> None:
    """An account always keeps at least one owner (owners are locked, so two owners removing each other
    at once cannot both succeed)."""
    owners = await repository.owners_for_update(session, user.account_id)
    if user.role is Role.owner and [o.id for o in owners] == [user.id]:
        raise ProblemError(
            409, "Conflict", "This is the account's last owner; make another user an owner first"
        )


async def end_sessions(session: AsyncSession, user: User) -> None:
    """Every session of the user ends now: access tokens by the version they carry, refresh tokens
    revoked."""
    user.session_version += 1
    await repository.revoke_user_tokens(session, user.id, datetime.now(UTC))


async def change_role(session: AsyncSession, owner: User, user_id: uuid.UUID, data: RoleIn) -> User:
    user = await _member(session, owner, user_id)
    if data.role is not Role.owner:
        await _keep_an_owner(session, user)
    user.role = data.role
    await session.flush()
    return user


async def remove_user(session: AsyncSession, owner: User, user_id: uuid.UUID) -> None:
    user = await _member(session, owner, user_id)
    await _keep_an_owner(session, user)
    await repository.revoke_user_tokens(session, user.id, datetime.now(UTC))
    await session.delete(user)  # its refresh tokens go with it; its access tokens find no user


async def reset_password(
    session: AsyncSession, owner: User, user_id: uuid.UUID, data: PasswordResetIn
) -> None:
    user = await _member(session, owner, user_id)
    user.password_hash = await _hash(data.password)
    await end_sessions(session, user)


async def change_own_password(
    session: AsyncSession, key: str, user: User, data: PasswordChangeIn
) -> TokenPair:
    if not await _verify(user.password_hash, data.current_password):
        raise ProblemError(
            422,
            "Request validation failed",
            "current_password is wrong",
            errors=[{"loc": ["body", "current_password"], "msg": "wrong password", "type": "value_error"}],
        )
    user.password_hash = await _hash(data.new_password)
    await end_sessions(session, user)
    await session.flush()
    return await issue_tokens(session, key, user)
