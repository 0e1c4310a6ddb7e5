"""``AuditDep``: records a change by the signed-in user in the request's own unit of work."""

from __future__ import annotations

from typing import Annotated, Any, Protocol

from fastapi import Depends

from ledgerbridge.api.auth.dependencies import CurrentUser
from ledgerbridge.api.dependencies import Session
from ledgerbridge.common.audit import record_change


class Audit(Protocol):
    async def __call__(
        self,
        action: str,
        subject: str,
        *,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> None: ...


def audit_log(user: CurrentUser, session: Session) -> Audit:
    async def record(
        action: str,
        subject: str,
        *,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> None:
        await record_change(session, user, action, subject, before=before, after=after)

    return record


AuditDep = Annotated[Audit, Depends(audit_log)]
