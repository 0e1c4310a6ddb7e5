"""Webhook payloads as far as we read them, and our answers."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class XeroEvent(BaseModel):
    """One event of a Xero webhook delivery (``xero-webhooks.yaml``: Event). Thin: re-fetch the resource."""

    model_config = ConfigDict(extra="allow")

    resourceUrl: str | None = None
    resourceId: str = Field(min_length=1, max_length=64)
    eventDateUtc: str = Field(min_length=1, max_length=64)
    eventType: str = Field(min_length=1, max_length=50)
    eventCategory: str = Field(min_length=1, max_length=50)
    tenantId: str = Field(min_length=1, max_length=64)
    tenantType: str | None = None


class XeroDelivery(BaseModel):
    model_config = ConfigDict(extra="allow")

    events: list[XeroEvent] = Field(max_length=1000)
    firstEventSequence: int | None = None
    lastEventSequence: int | None = None
    entropy: str | None = None


class PingAccepted(BaseModel):
    queued: bool = Field(description="False when the same ping was already received moments ago")


class PushAccepted(BaseModel):
    stored: bool = Field(
        description="True when a re-read of the invoice from Onport was queued; False when the same invoice "
        "was pushed moments ago (its re-read is already queued)"
    )
