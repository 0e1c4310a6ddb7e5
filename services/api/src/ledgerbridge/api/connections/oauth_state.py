"""The Xero connect flow's ``state``: bound to the user who started it, single use, ten minutes.

Kept in Redis because it is ephemeral and losing it only means clicking "connect" again. ``GETDEL`` takes
it atomically, so two callbacks racing with the same state cannot both succeed.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from authlib.common.security import generate_token  # type: ignore[import-untyped]
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri  # type: ignore[import-untyped]
from authlib.oauth2.rfc7636 import create_s256_code_challenge  # type: ignore[import-untyped]
from redis.asyncio import Redis

STATE_TTL_SECONDS = 600


@dataclass(frozen=True)
class PendingConsent:
    user_id: uuid.UUID
    account_id: uuid.UUID
    code_verifier: str


def new_code_verifier() -> str:
    # 64 characters of the unreserved set: within RFC 7636's 43 to 128.
    return str(generate_token(64))


def authorization_url(
    authorize_url: str, *, client_id: str, redirect_uri: str, scope: str, state: str, code_verifier: str
) -> str:
    """The consent URL with PKCE S256; the exact redirect URI is repeated at the code exchange."""
    url = prepare_grant_uri(
        authorize_url,
        client_id=client_id,
        response_type="code",
        redirect_uri=redirect_uri,
        scope=scope,
        state=state,
        code_challenge=create_s256_code_challenge(code_verifier),
        code_challenge_method="S256",
    )
    return str(url)


def _key(prefix: str, state: str) -> str:
    return f"{prefix}:oauth:xero:state:{state}"


async def begin(redis: Redis, prefix: str, consent: PendingConsent) -> str:
    state = str(generate_token(40))
    value = json.dumps(
        {
            "user_id": str(consent.user_id),
            "account_id": str(consent.account_id),
            "code_verifier": consent.code_verifier,
        }
    )
    await redis.set(_key(prefix, state), value, ex=STATE_TTL_SECONDS)
    return state


async def take(redis: Redis, prefix: str, state: str) -> PendingConsent | None:
    """The consent ``state`` was issued for, removing it; None when unknown, used or expired."""
    if not state or len(state) > 200:
        return None
    raw = await redis.getdel(_key(prefix, state))
    if raw is None:
        return None
    data = json.loads(raw)
    return PendingConsent(
        user_id=uuid.UUID(data["user_id"]),
        account_id=uuid.UUID(data["account_id"]),
        code_verifier=str(data["code_verifier"]),
    )
