"""Reading and saving alert settings, rotating the webhook secret, queueing a test alert.

Nothing here sends anything: a test alert is stored with its deliveries and the alerts worker sends it,
exactly like a real one (so the test proves the path real alerts take).
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.api.alerts import repository
from ledgerbridge.api.alerts.schemas import (
    AlertOut,
    AlertSettingsIn,
    AlertSettingsOut,
    DeliveryOut,
    SmtpOut,
    TestAlertQueued,
    WebhookOut,
)
from ledgerbridge.api.problems import VALIDATION_TYPE, ProblemError
from ledgerbridge.common.alerts import compose
from ledgerbridge.common.alerts.dispatch import app_url, configured_channels, create_alert
from ledgerbridge.common.alerts.kinds import CHOOSABLE, AlertKind, channels_for, fix_link
from ledgerbridge.common.alerts.targets import TargetError, check_smtp_host, check_webhook_url
from ledgerbridge.common.models import AlertSettings, User
from ledgerbridge.common.platform import Platform


def _invalid(loc: list[str | int], message: str) -> ProblemError:
    return ProblemError(
        422,
        "Request validation failed",
        f"{'.'.join(map(str, loc))}: {message}",
        type_=VALIDATION_TYPE,
        errors=[{"loc": ["body", *loc], "msg": message, "type": "value_error"}],
    )


def summary(row: AlertSettings | None) -> dict[str, Any]:
    """The settings as the audit trail records them: no password, no secret, only whether one is set."""
    if row is None:
        return {}
    return {
        "smtp": _smtp_out(row).model_dump() if row.smtp_host else None,
        "recipients": list(row.recipients),
        "webhook": _webhook_out(row).model_dump() if row.webhook_url else None,
        "preferences": _preferences(row),
    }


def _smtp_out(row: AlertSettings) -> SmtpOut:
    return SmtpOut(
        host=row.smtp_host or "",
        port=row.smtp_port or 0,
        tls=row.smtp_tls,
        username=row.smtp_username,
        password_set=row.smtp_password is not None,
        from_address=row.from_address or "",
    )


def _webhook_out(row: AlertSettings) -> WebhookOut:
    return WebhookOut(
        url=row.webhook_url or "", format=row.webhook_format, secret_set=row.webhook_secret is not None
    )


def _preferences(row: AlertSettings | None) -> dict[str, list[str]]:
    chosen = row.preferences if row is not None else {}
    return {str(kind): sorted(str(c) for c in channels_for(chosen, kind)) for kind in CHOOSABLE}


async def read(
    session: AsyncSession, account_id: uuid.UUID, webhook_secret: str | None = None
) -> AlertSettingsOut:
    row = await repository.settings_row(session, account_id)
    recent = [
        AlertOut(
            id=alert.id,
            kind=alert.kind,
            title=alert.title,
            count=alert.count,
            link=alert.link,
            created_at=alert.created_at,
            deliveries=[
                DeliveryOut(
                    channel=d.channel,
                    status=str(d.status),
                    attempts=d.attempts,
                    last_error=d.last_error,
                    sent_at=d.sent_at,
                )
                for d in deliveries
            ],
        )
        for alert, deliveries in await repository.recent_alerts(session, account_id)
    ]
    return AlertSettingsOut(
        smtp=_smtp_out(row) if row is not None and row.smtp_host else None,
        recipients=list(row.recipients) if row is not None else [],
        webhook=_webhook_out(row) if row is not None and row.webhook_url else None,
        preferences=_preferences(row),
        webhook_secret=webhook_secret,
        recent=recent,
    )


def _new_secret(platform: Platform) -> tuple[str, bytes]:
    secret = "whsec_" + secrets.token_urlsafe(32)
    return secret, platform.cipher.encrypt_json({"secret": secret})


async def save(
    session: AsyncSession, platform: Platform, account_id: uuid.UUID, body: AlertSettingsIn
) -> tuple[AlertSettingsOut, dict[str, Any], dict[str, Any]]:
    """Replace the settings; the answer, and the before/after the audit trail records."""
    production = platform.settings.runtime.is_production
    if body.smtp is not None:
        try:
            check_smtp_host(body.smtp.host, production=production)
        except TargetError as exc:
            raise _invalid(["smtp", "host"], str(exc)) from exc
        if production and body.smtp.tls == "none":
            raise _invalid(["smtp", "tls"], "Use starttls or tls: in production mail goes encrypted")
    if body.webhook is not None:
        try:
            check_webhook_url(body.webhook.url, production=production)
        except TargetError as exc:
            raise _invalid(["webhook", "url"], str(exc)) from exc
    row = await repository.locked_settings_row(session, account_id)
    before = summary(row)
    if body.smtp is None:
        row.smtp_host = row.smtp_port = row.smtp_username = row.smtp_password = row.from_address = None
        row.smtp_tls = "starttls"
    else:
        same_server = row.smtp_host == body.smtp.host and row.smtp_username == body.smtp.username
        row.smtp_host, row.smtp_port, row.smtp_tls = body.smtp.host, body.smtp.port, body.smtp.tls
        row.smtp_username, row.from_address = body.smtp.username, str(body.smtp.from_address)
        if body.smtp.password is not None:
            row.smtp_password = platform.cipher.encrypt_json(
                {"password": body.smtp.password.get_secret_value()}
            )
        elif not same_server:
            row.smtp_password = None  # a stored password is never sent to another server or user name
    row.recipients = [str(address).lower() for address in body.recipients]
    created_secret: str | None = None
    if body.webhook is None:
        row.webhook_url, row.webhook_format, row.webhook_secret = None, "json", None
    else:
        row.webhook_url, row.webhook_format = body.webhook.url, body.webhook.format
        if row.webhook_secret is None:
            created_secret, row.webhook_secret = _new_secret(platform)
    row.preferences = {
        str(kind): sorted({str(c) for c in channels}) for kind, channels in body.preferences.items()
    }
    await session.flush()
    return await read(session, account_id, created_secret), before, summary(row)


async def rotate_secret(session: AsyncSession, platform: Platform, account_id: uuid.UUID) -> str:
    row = await repository.locked_settings_row(session, account_id)
    if row.webhook_url is None:
        raise ProblemError(409, "No webhook", "Save a webhook URL in the alerts settings first")
    secret, row.webhook_secret = _new_secret(platform)
    return secret


async def queue_test(session: AsyncSession, platform: Platform, user: User) -> TestAlertQueued:
    row = await repository.settings_row(session, user.account_id)
    channels = configured_channels(row)
    if not channels:
        raise ProblemError(
            409, "No alert channel", "Set up e-mail (SMTP) or a webhook, save, then send a test"
        )
    link = fix_link(app_url(platform.settings), AlertKind.test)
    alert_id = await create_alert(
        session, user.account_id, AlertKind.test, f"test:{uuid.uuid4()}", compose.test_alert(user.email), link
    )
    assert alert_id is not None  # the key is new
    return TestAlertQueued(alert_id=alert_id, channels=sorted(str(c) for c in channels))
