"""Connection request and response bodies; credentials are accepted, never returned."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, StringConstraints

from ledgerbridge.common.models import ConnectionKind, ConnectionStatus

# Credentials travel in HTTP headers, which carry printable ASCII only: anything else is a typo, and
# would otherwise fail inside the HTTP client instead of answering 422.
HEADER_SAFE = r"^[\x21-\x7e]+$"
Credential = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500, pattern=HEADER_SAFE)
]


def _header_safe(value: SecretStr) -> SecretStr:
    if not re.fullmatch(HEADER_SAFE, value.get_secret_value()):
        raise ValueError("must be printable ASCII without spaces, as the partner issued it")
    return value


SecretCredential = Annotated[SecretStr, Field(min_length=1, max_length=500), AfterValidator(_header_safe)]


class ConnectionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: ConnectionKind
    name: str
    status: ConnectionStatus
    xero_tenant_id: str | None = Field(description="Xero: the chosen organisation")
    xero_connection_id: uuid.UUID | None = Field(
        description="ONTRAPORT/Onport: the Xero connection this source posts to"
    )
    last_error: str | None
    created_at: datetime
    updated_at: datetime


class ConnectionList(BaseModel):
    items: list[ConnectionOut]


class AuthorizeUrl(BaseModel):
    authorize_url: str = Field(description="Send the user's browser here to give consent at Xero")


class Organisation(BaseModel):
    tenant_id: str
    name: str
    type: str
    selected: bool = Field(description="Whether this connection posts to this organisation")


class OrganisationList(BaseModel):
    items: list[Organisation]


class ConsentReceived(BaseModel):
    """The callback's answer when no SPA_URL is configured to redirect to."""

    connection_id: uuid.UUID
    status: ConnectionStatus
    organisations: list[Organisation]


class ChooseOrganisation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class OntraportConnect(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"app_id": "2_12345_AbCdEf", "api_key": "…"}]},
    )

    app_id: Credential
    api_key: SecretCredential
    xero_connection_id: uuid.UUID | None = Field(
        default=None, description="Which Xero connection to post to; unset uses the only one, if there is one"
    )


class OnportConnect(BaseModel):
    model_config = ConfigDict(extra="forbid")

    api_token: SecretCredential
    xero_connection_id: uuid.UUID | None = None


class ChooseXeroConnection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    xero_connection_id: uuid.UUID


class SourceConnected(ConnectionOut):
    webhook_urls: dict[str, str] = Field(
        description="Where the partner pushes to us. ONTRAPORT webhooks are subscribed already; the Onport "
        "URLs go into Onport's custom accounting integration (dropship and replenishment)."
    )
    webhooks_subscribed: int = 0
