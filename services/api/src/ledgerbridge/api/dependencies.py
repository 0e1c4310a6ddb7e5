"""Request-scoped resources shared by every feature: the platform and the request's unit of work."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.common.database import unit_of_work
from ledgerbridge.common.platform import Platform


def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


async def get_session(platform: Annotated[Platform, Depends(get_platform)]) -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed here and nowhere else; any error rolls it back."""
    async with unit_of_work(platform.sessions) as session:
        yield session


# scope="function" commits before the response is sent: a failed commit must answer with an error, and a
# client that got a 2xx must be able to read its write back at once.
Session = Annotated[AsyncSession, Depends(get_session, scope="function")]
PlatformDep = Annotated[Platform, Depends(get_platform)]
