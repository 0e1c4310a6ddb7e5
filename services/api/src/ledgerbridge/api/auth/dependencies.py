"""Who is calling: ``current_user`` for any signed-in user, ``require_owner`` for owner-only actions."""

from __future__ import annotations

from typing import Annotated

import jwt
from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer

from ledgerbridge.api.auth import repository
from ledgerbridge.api.auth.service import unauthorized
from ledgerbridge.api.auth.tokens import read_access_token
from ledgerbridge.api.dependencies import PlatformDep, Session
from ledgerbridge.api.problems import ProblemError
from ledgerbridge.common.models import Role, User

# auto_error off: a missing token must answer with our problem document, not FastAPI's default body.
bearer = OAuth2PasswordBearer(tokenUrl="/v1/auth/token", auto_error=False)


async def current_user(
    token: Annotated[str | None, Depends(bearer)], session: Session, platform: PlatformDep
) -> User:
    if not token:
        raise unauthorized("Sign in first and send the access token as 'Authorization: Bearer <token>'")
    try:
        claims = read_access_token(platform.secret_key, token)
    except jwt.InvalidTokenError as exc:
        raise unauthorized("The access token is invalid or has expired") from exc
    # Read from the database, not the token: a removed user or a changed role takes effect at once.
    user = await repository.user_in_account(session, claims.account_id, claims.user_id)
    if user is None:
        raise unauthorized("The access token's user no longer exists")
    if user.session_version != claims.session_version:
        # The user's password was reset (or changed) since: every earlier session ends at once.
        raise unauthorized("This session has ended; sign in again")
    return user


async def require_owner(user: Annotated[User, Depends(current_user)]) -> User:
    if user.role != Role.owner:
        raise ProblemError(403, "Forbidden", "Only the account's owners may do this")
    return user


CurrentUser = Annotated[User, Depends(current_user)]
OwnerUser = Annotated[User, Depends(require_owner)]
