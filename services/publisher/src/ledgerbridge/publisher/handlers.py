"""What the publisher does with each message on its queue: send documents to Xero under its limits."""

from __future__ import annotations

from typing import Any

from ledgerbridge.common.messaging.consumer import Handler

HANDLERS: list[Handler[Any]] = []
