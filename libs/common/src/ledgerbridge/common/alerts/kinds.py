"""The kinds of alert, the channels, and where in the web app each alert's fix is."""

from __future__ import annotations

import enum


class AlertKind(enum.StrEnum):
    records_failed = "records_failed"
    xero_consent = "xero_consent"  # a Xero connection's consent expired or was revoked
    day_limit = "day_limit"  # Xero's daily call limit parked an organisation
    daily_digest = "daily_digest"
    test = "test"  # "send a test alert": always every configured channel


class Channel(enum.StrEnum):
    email = "email"
    webhook = "webhook"


CHOOSABLE = tuple(kind for kind in AlertKind if kind is not AlertKind.test)
"""The kinds owners choose channels for (a test goes wherever it is asked to)."""

# Path in the web app that shows the problem and its fix.
FIX_PATHS: dict[AlertKind, str] = {
    AlertKind.records_failed: "/records?status=failed",
    AlertKind.xero_consent: "/connections",
    AlertKind.day_limit: "/",
    AlertKind.daily_digest: "/",
    AlertKind.test: "/alerts",
}


def fix_link(base_url: str, kind: AlertKind) -> str:
    return base_url.rstrip("/") + FIX_PATHS[kind]


def channels_for(preferences: dict[str, object], kind: AlertKind) -> set[Channel]:
    """The channels the owners chose for this kind; a kind never chosen gets every channel."""
    if kind is AlertKind.test:
        return set(Channel)
    chosen = preferences.get(str(kind))
    if not isinstance(chosen, list):
        return set(Channel)
    return {Channel(name) for name in chosen if name in Channel.__members__}
