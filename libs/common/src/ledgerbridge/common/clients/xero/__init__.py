"""Xero: OAuth2 tokens kept on the connection row, a rate limiter shared through Redis, and the
accounting client that uses both."""

from ledgerbridge.common.clients.xero.client import (
    ElementResult,
    UnknownOutcomeError,
    XeroClient,
    XeroNotFoundError,
)
from ledgerbridge.common.clients.xero.limiter import LimiterConfig, OrganisationParkedError, RateLimiter
from ledgerbridge.common.clients.xero.tokens import (
    AccessTokenProvider,
    TokenService,
    TokenSet,
    XeroOAuth,
    XeroTenantConnection,
)

__all__ = [
    "AccessTokenProvider",
    "ElementResult",
    "LimiterConfig",
    "OrganisationParkedError",
    "RateLimiter",
    "TokenService",
    "TokenSet",
    "UnknownOutcomeError",
    "XeroClient",
    "XeroNotFoundError",
    "XeroOAuth",
    "XeroTenantConnection",
]
