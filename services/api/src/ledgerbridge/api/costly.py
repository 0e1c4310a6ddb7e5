"""Per-account limits on the calls that cost partner API budget or queue heavy work (issue 10, finding 10).

Sync runs, reference data re-read from a partner (``refresh=true``), live vendor lists and imports are
counted per account and kind in Redis (shared by every replica): ``API_COSTLY_CALLS_PER_ACCOUNT`` a
minute each, then 429 with ``Retry-After``. One account cannot spend the partners' limits that the
workers, and the account's own sync, depend on.
"""

from __future__ import annotations

import uuid

from ledgerbridge.api.auth.rate_limit import FixedWindowLimiter
from ledgerbridge.common.platform import Platform

WINDOW_SECONDS = 60


async def spend(platform: Platform, account_id: uuid.UUID, kind: str) -> None:
    """Count one costly call of ``kind`` for the account; a 429 problem once over the limit."""
    limiter = FixedWindowLimiter(
        platform.transport.redis,
        platform.settings.queue.prefix,
        f"costly:{kind}",
        platform.settings.api.costly_calls_per_account,
        WINDOW_SECONDS,
        what=f"{kind.replace('-', ' ')} requests for this account",
    )
    await limiter.hit(account=str(account_id))
