"""What the poller does with each message on its queue: fetch from ONTRAPORT and Onport, store records."""

from __future__ import annotations

from typing import Any

from ledgerbridge.common.messaging.consumer import Handler

HANDLERS: list[Handler[Any]] = []
