"""The reference data a request validates against: the single place to plug in the Xero cache."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from ledgerbridge.api.auth.dependencies import CurrentUser
from ledgerbridge.api.dependencies import Session
from ledgerbridge.api.mappings.service import ReferenceData, XeroCacheReferenceData


async def reference_data(user: CurrentUser, session: Session) -> ReferenceData:
    return await XeroCacheReferenceData.load(session, user.account_id)


ReferenceDataDep = Annotated[ReferenceData, Depends(reference_data)]
