"""Alerts settings as the API takes and shows them; secrets go in, never out (the webhook's once)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, SecretStr

from ledgerbridge.common.alerts.kinds import Channel

ChoosableKind = Literal["records_failed", "xero_consent", "day_limit", "daily_digest"]
HOSTNAME = r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$|^\[?[0-9A-Fa-f:.]+\]?$"


class SmtpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: Annotated[str, Field(min_length=1, max_length=253, pattern=HOSTNAME, examples=["smtp.example.com"])]
    port: Annotated[int, Field(ge=1, le=65535)] = 587
    tls: Literal["starttls", "tls", "none"] = Field(
        default="starttls",
        description="starttls (port 587), tls (implicit, port 465) or none (not in production)",
    )
    username: Annotated[str | None, Field(max_length=320)] = None
    password: Annotated[SecretStr | None, Field(max_length=500)] = Field(
        default=None, description="Stored encrypted; leave out to keep the stored one"
    )
    from_address: EmailStr = Field(examples=["alerts@example.com"])


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Annotated[
        str, Field(min_length=1, max_length=2000, examples=["https://hooks.example.com/ledgerbridge"])
    ]
    format: Literal["json", "slack"] = Field(
        default="json", description='json: our alert object; slack: {"text": …} for a Slack incoming webhook'
    )


class AlertSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    smtp: SmtpIn | None = Field(default=None, description="Empty: no e-mail alerts")
    recipients: Annotated[list[EmailStr], Field(max_length=20)] = Field(
        default_factory=list, description="Who gets e-mail; empty: the account's owners"
    )
    webhook: WebhookIn | None = Field(default=None, description="Empty: no webhook alerts")
    preferences: dict[ChoosableKind, Annotated[list[Channel], Field(max_length=2)]] = Field(
        default_factory=dict,
        description="Per alert kind, the channels it goes to; a kind left out goes to all",
    )


class SmtpOut(BaseModel):
    host: str
    port: int
    tls: str
    username: str | None
    password_set: bool
    from_address: str


class WebhookOut(BaseModel):
    url: str
    format: str
    secret_set: bool


class DeliveryOut(BaseModel):
    channel: str
    status: str
    attempts: int
    last_error: str | None
    sent_at: datetime | None


class AlertOut(BaseModel):
    id: uuid.UUID
    kind: str
    title: str
    count: int
    link: str
    created_at: datetime
    deliveries: list[DeliveryOut]


class AlertSettingsOut(BaseModel):
    smtp: SmtpOut | None
    recipients: list[str]
    webhook: WebhookOut | None
    preferences: dict[str, list[str]] = Field(description="Every kind, with the channels it goes to")
    webhook_secret: str | None = Field(
        default=None,
        description="The webhook signing secret, shown only in the answer that created or rotated it",
    )
    recent: list[AlertOut] = Field(description="The latest alerts and how each delivery went")


class WebhookSecret(BaseModel):
    secret: str = Field(description="Shown once: verify X-Ledgerbridge-Signature with it")


class TestAlertQueued(BaseModel):
    alert_id: uuid.UUID
    channels: list[str]
