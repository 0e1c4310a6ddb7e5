"""``/v1/alerts``: where alerts go and what owners receive; rotate the webhook secret; a test alert."""

from __future__ import annotations

from fastapi import APIRouter, status

from ledgerbridge.api.alerts import service
from ledgerbridge.api.alerts.schemas import AlertSettingsIn, AlertSettingsOut, TestAlertQueued, WebhookSecret
from ledgerbridge.api.audit.dependencies import AuditDep
from ledgerbridge.api.auth.dependencies import CurrentUser, OwnerUser
from ledgerbridge.api.costly import spend
from ledgerbridge.api.dependencies import PlatformDep, Session
from ledgerbridge.api.problems import problem_responses
from ledgerbridge.common.audit import changed

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])
SUBJECT = "alerts"


@router.get(
    "",
    summary="Alert settings (no secrets) and the latest alerts with how each delivery went",
    response_model=AlertSettingsOut,
    responses=problem_responses(401),
)
async def get_alerts(user: CurrentUser, session: Session) -> AlertSettingsOut:
    return await service.read(session, user.account_id)


@router.put(
    "",
    summary="Replace the alert settings; owners only",
    description="The SMTP password is kept when left out. The first save with a webhook creates its signing "
    "secret and returns it once, in webhook_secret.",
    response_model=AlertSettingsOut,
    responses=problem_responses(401, 403, 422),
)
async def put_alerts(
    body: AlertSettingsIn, user: OwnerUser, session: Session, platform: PlatformDep, audit: AuditDep
) -> AlertSettingsOut:
    answer, before, after = await service.save(session, platform, user.account_id, body)
    await audit("alerts.update", SUBJECT, **changed(before, after))
    return answer


@router.post(
    "/webhook-secret",
    summary="Make a new webhook signing secret (the old one stops at once); shown only here",
    response_model=WebhookSecret,
    responses=problem_responses(401, 403, 409),
)
async def rotate_webhook_secret(
    user: OwnerUser, session: Session, platform: PlatformDep, audit: AuditDep
) -> WebhookSecret:
    secret = await service.rotate_secret(session, platform, user.account_id)
    await audit("alerts.webhook_secret_rotate", SUBJECT, after={"secret_set": True})
    return WebhookSecret(secret=secret)


@router.post(
    "/test",
    summary="Send a test alert to every configured channel (through the alerts worker, like a real one)",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=TestAlertQueued,
    responses=problem_responses(401, 403, 409, 429),
)
async def send_test_alert(
    user: OwnerUser, session: Session, platform: PlatformDep, audit: AuditDep
) -> TestAlertQueued:
    await spend(platform, user.account_id, "test-alert")
    queued = await service.queue_test(session, platform, user)
    await audit("alerts.test", SUBJECT, after={"alert_id": str(queued.alert_id), "channels": queued.channels})
    return queued
