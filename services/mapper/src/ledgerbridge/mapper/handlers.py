"""What the mapper does with each message on its queue: turn stored records into Xero documents."""

from __future__ import annotations

from typing import Any

from ledgerbridge.common.messaging.consumer import Handler

HANDLERS: list[Handler[Any]] = []
