"""The tenant's options as the API shows them: ``AccountOptions``, the shape stored and read by workers."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ledgerbridge.common.account_settings import AccountOptions

PATCH_BODY: dict[str, Any] = {
    "description": "Any part of the options, nested as in the answer of GET /v1/settings. Objects are merged "
    "(RFC 7396 JSON merge patch): fields not sent keep their value, null resets a field to its default and "
    "removes a payout currency. The result is validated as a whole.",
    "content": {
        "application/json": {
            "schema": {"$ref": "#/components/schemas/AccountOptions"},
            "examples": {
                "draft invoices": {
                    "value": {"ontraport": {"invoice_status": "DRAFT", "time_zone": "Australia/Sydney"}}
                },
                "payout account": {"value": {"onport": {"payout_accounts": {"AUD": "090"}}}},
            },
        }
    },
}


class SettingsUpdated(AccountOptions):
    warnings: list[str] = Field(
        default_factory=list, description="Checks that could not be made yet (no Xero reference data cached)"
    )
