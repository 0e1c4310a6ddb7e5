"""The audit trail for people: one entry per change a user makes, in the same transaction as the change.

``record_change`` is the one way in (the API's features and the rollback call it). ``before`` and
``after`` are what changed, never a secret: keys that look secret are replaced, whatever the depth.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.common.models import AuditEntry, User

REDACTED = "[redacted]"
_SECRET_KEY = re.compile(r"password|secret|token|api_?key|credential|authori[sz]ation", re.IGNORECASE)
_MAX_TEXT = 2000  # a before/after value is a summary, not a copy of the payload


def redact(value: Any) -> Any:
    """The value with every secret-looking key's value replaced and long text cut."""
    if isinstance(value, dict):
        return {
            # A flag ("password_set": true) says nothing secret; any other value under such a key goes.
            str(key): REDACTED
            if _SECRET_KEY.search(str(key)) and item is not None and not isinstance(item, bool)
            else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    if isinstance(value, str) and len(value) > _MAX_TEXT:
        return value[:_MAX_TEXT] + "…"
    return value


def _entry(
    user: User, action: str, subject: str, before: dict[str, Any] | None, after: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "account_id": user.account_id,
        "user_id": user.id,
        "user_email": user.email,
        "action": action,
        "subject": subject[:300],
        "before": redact(before) if before is not None else None,
        "after": redact(after) if after is not None else None,
    }


async def record_change(
    session: AsyncSession,
    user: User,
    action: str,
    subject: str,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Record that ``user`` did ``action`` to ``subject`` ("record:<id>", "settings", …)."""
    await session.execute(insert(AuditEntry).values(**_entry(user, action, subject, before, after)))


async def record_changes(
    session: AsyncSession,
    user: User,
    action: str,
    changes: Iterable[tuple[str, dict[str, Any] | None, dict[str, Any] | None]],
) -> int:
    """One entry per (subject, before, after), in one statement: a bulk retry or a rollback's records."""
    rows = [_entry(user, action, subject, before, after) for subject, before, after in changes]
    if rows:
        await session.execute(insert(AuditEntry), rows)
    return len(rows)


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}{key}."))
        return flat
    return {prefix.rstrip("."): value}


def changed(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Only the fields that differ, as dotted names ("ontraport.default_sales_account"): the
    ``before`` / ``after`` of an entry for a large settings object."""
    old, new = _flatten(before), _flatten(after)
    names = sorted(name for name in old.keys() | new.keys() if old.get(name) != new.get(name))
    return {"before": {n: old.get(n) for n in names}, "after": {n: new.get(n) for n in names}}
