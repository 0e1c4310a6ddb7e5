"""What an alert says: from a group of events (or the day's figures) to a title, a body and a count."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledgerbridge.common.alerts.kinds import AlertKind


@dataclass(frozen=True)
class Composed:
    title: str
    body: str
    count: int


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def records_failed(details: list[dict[str, Any]], count: int, since: datetime) -> Composed:
    reasons = Counter(str(detail.get("reason") or "no reason recorded") for detail in details)
    lines = [f"- {reason} ({n})" for reason, n in reasons.most_common(5)]
    if len(reasons) > 5:
        lines.append(f"- and {len(reasons) - 5} other reasons")
    body = (
        f"{_plural(count, 'record')} failed to sync to Xero since {since:%Y-%m-%d %H:%M} UTC.\n"
        "Why:\n" + "\n".join(lines) + "\nFix the cause (a mapping or a setting) and they are retried."
    )
    return Composed(f"{_plural(count, 'record')} failed to sync to Xero", body, count)


def _organisations(details: list[dict[str, Any]]) -> str:
    names = sorted({str(detail.get("name") or "a Xero organisation") for detail in details})
    return ", ".join(names)


def xero_consent(details: list[dict[str, Any]], waiting: int) -> Composed:
    names = _organisations(details)
    body = (
        f"Xero consent for {names} expired or was revoked: nothing more is sent to it.\n"
        f"{_plural(waiting, 'record')} wait to be sent. Reconnect Xero to send them."
    )
    return Composed(f"Xero consent for {names} expired or was revoked", body, waiting)


def day_limit(details: list[dict[str, Any]], waiting: int) -> Composed:
    names = _organisations(details)
    until = max((str(detail.get("until", "")) for detail in details), default="")
    body = (
        f"Xero's daily call limit for {names} is spent: sending stops until {until} (Xero's reset).\n"
        f"{_plural(waiting, 'record')} wait and go out by themselves after that; nothing is lost."
    )
    return Composed(f"Xero's daily limit paused {names}", body, waiting)


def daily_digest(day: str, figures: dict[str, int], failed_now: int) -> Composed:
    synced = figures.get("synced", 0)
    lines = [f"- {status}: {n}" for status, n in sorted(figures.items())] or ["- no records"]
    body = (
        f"The last 24 hours to {day}:\n"
        + "\n".join(lines)
        + f"\n{_plural(failed_now, 'record')} need attention."
    )
    return Composed(f"Daily digest: {synced} synced, {failed_now} need attention", body, failed_now)


def test_alert(user_email: str) -> Composed:
    return Composed(
        "Test alert",
        f"{user_email} sent this test from the Alerts settings. Alerts reach you here.",
        0,
    )


COMPOSERS_WITH_WAITING = {AlertKind.xero_consent: xero_consent, AlertKind.day_limit: day_limit}
