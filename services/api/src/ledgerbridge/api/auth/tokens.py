"""Short-lived signed access tokens (JWT, HS256) and opaque refresh tokens."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from ledgerbridge.common.models import Role

ACCESS_TOKEN_TTL = timedelta(minutes=15)
REFRESH_TOKEN_TTL = timedelta(days=30)
ALGORITHM = "HS256"
ISSUER = "ledgerbridge"
AUDIENCE = "ledgerbridge-api"


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    account_id: uuid.UUID
    role: Role
    session_version: int = 0
    """The user's ``session_version`` when the token was issued; a later one ends the token."""


def issue_access_token(key: str, claims: AccessClaims, now: datetime) -> str:
    return jwt.encode(
        {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": str(claims.user_id),
            "acc": str(claims.account_id),
            "role": str(claims.role),
            "ver": claims.session_version,
            "iat": now,
            "exp": now + ACCESS_TOKEN_TTL,
        },
        key,
        algorithm=ALGORITHM,
    )


def read_access_token(key: str, token: str) -> AccessClaims:
    """The token's claims; raises ``jwt.InvalidTokenError`` for anything forged, expired or malformed."""
    decoded = jwt.decode(
        token,
        key,
        algorithms=[ALGORITHM],  # pinned: never let the token choose (alg=none, key confusion)
        audience=AUDIENCE,
        issuer=ISSUER,
        options={"require": ["exp", "iat", "sub", "aud", "iss", "ver"]},
    )
    try:
        return AccessClaims(
            user_id=uuid.UUID(decoded["sub"]),
            account_id=uuid.UUID(decoded["acc"]),
            role=Role(decoded["role"]),
            session_version=_version(decoded["ver"]),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise jwt.InvalidTokenError("malformed claims") from exc


def _version(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("ver is not an integer")
    return value


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
