"""Queries for users and refresh tokens. Everything a signed-in caller reaches is scoped to their account."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.common.models import Account, RefreshToken, Role, User


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    # Sign-in is the one lookup without an account: the e-mail is what tells us the account.
    result: User | None = await session.scalar(select(User).where(User.email == email))
    return result


async def email_taken(session: AsyncSession, email: str) -> bool:
    return await user_by_email(session, email) is not None


async def user_in_account(session: AsyncSession, account_id: uuid.UUID, user_id: uuid.UUID) -> User | None:
    result: User | None = await session.scalar(
        select(User).where(User.id == user_id, User.account_id == account_id)
    )
    return result


async def users_of_account(session: AsyncSession, account_id: uuid.UUID) -> list[User]:
    rows = await session.scalars(
        select(User).where(User.account_id == account_id).order_by(User.created_at, User.email)
    )
    return list(rows)


async def account(session: AsyncSession, account_id: uuid.UUID) -> Account:
    return await session.get_one(Account, account_id)


async def refresh_token_for_update(session: AsyncSession, token_hash: str) -> RefreshToken | None:
    # Locked: two concurrent refreshes with one token must not both succeed.
    result: RefreshToken | None = await session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == token_hash).with_for_update(key_share=True)
    )
    return result


async def revoke_family(session: AsyncSession, family_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def user_in_account_for_update(
    session: AsyncSession, account_id: uuid.UUID, user_id: uuid.UUID
) -> User | None:
    result: User | None = await session.scalar(
        select(User).where(User.id == user_id, User.account_id == account_id).with_for_update()
    )
    return result


async def owners_for_update(session: AsyncSession, account_id: uuid.UUID) -> list[User]:
    rows = await session.scalars(
        select(User)
        .where(User.account_id == account_id, User.role == Role.owner)
        .order_by(User.id)
        .with_for_update()
    )
    return list(rows)


async def revoke_user_tokens(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
