"""Outgoing Xero webhooks: signed, thin event payloads sent in the background.

Delivery never slows the request that caused it: events are handed to a task on the running loop and
every attempt is recorded in ``deliveries`` so tests can see what the receiver answered.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from ledgerbridge.sandbox.xero.config import XeroSandboxConfig


def sign(key: str, body: bytes) -> str:
    """``x-xero-signature``: base64 of HMAC-SHA256 of the raw body under the webhook key."""
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def _entropy() -> str:
    return "".join(secrets.choice(string.ascii_uppercase) for _ in range(20))


def event_date(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


@dataclass
class Delivery:
    url: str
    body: bytes
    signature: str
    status_code: int | None = None
    error: str | None = None

    def describe(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "payload": json.loads(self.body),
            "signature": self.signature,
            "status_code": self.status_code,
            "error": self.error,
        }


@dataclass
class WebhookHub:
    config: XeroSandboxConfig
    url: str | None = None
    key: str | None = None
    categories: set[str] = field(default_factory=set)
    sequence: int = 0
    deliveries: list[Delivery] = field(default_factory=list)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def reset(self) -> None:
        self.url = self.config.webhook_url
        self.key = self.config.webhook_key
        self.categories = set(self.config.webhook_categories)
        self.sequence = 0
        self.deliveries = []

    def configure(self, url: str | None, key: str | None, categories: list[str] | None) -> None:
        self.url = url
        self.key = key
        if categories is not None:
            self.categories = set(categories)

    @property
    def enabled(self) -> bool:
        return bool(self.url and self.key)

    def payload(self, events: list[dict[str, Any]]) -> bytes:
        first = self.sequence + 1
        self.sequence += max(1, len(events))
        body = {
            "events": events,
            "firstEventSequence": first,
            "lastEventSequence": self.sequence,
            "entropy": _entropy(),
        }
        return json.dumps(body, separators=(",", ":")).encode()

    def emit(self, events: list[dict[str, Any]]) -> None:
        """Send these events in the background if a receiver is registered."""
        wanted = [event for event in events if event["eventCategory"] in self.categories]
        if not wanted or not self.enabled:
            return
        assert self.url is not None
        assert self.key is not None
        body = self.payload(wanted)
        delivery = Delivery(self.url, body, sign(self.key, body))
        self.deliveries.append(delivery)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            delivery.error = "no running event loop"
            return
        task = loop.create_task(self._deliver(delivery))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, delivery: Delivery) -> None:
        try:
            async with httpx.AsyncClient(timeout=self.config.webhook_timeout_seconds) as client:
                response = await client.post(
                    delivery.url,
                    content=delivery.body,
                    headers={"content-type": "application/json", "x-xero-signature": delivery.signature},
                )
            delivery.status_code = response.status_code
        except httpx.HTTPError as error:
            delivery.error = f"{type(error).__name__}: {error}"

    async def drain(self) -> None:
        """Wait for deliveries still in flight (tests and shutdown)."""
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def intent_to_receive(self) -> dict[str, Any]:
        """Xero's handshake: a correctly signed empty payload must get 200, a badly signed one 401."""
        if not self.enabled:
            return {"ok": False, "error": "no webhook url and key registered"}
        assert self.url is not None
        assert self.key is not None
        good = json.dumps(
            {"events": [], "firstEventSequence": 0, "lastEventSequence": 0, "entropy": _entropy()},
            separators=(",", ":"),
        ).encode()
        bad = json.dumps(
            {"events": [], "firstEventSequence": 0, "lastEventSequence": 0, "entropy": _entropy()},
            separators=(",", ":"),
        ).encode()
        results: dict[str, Any] = {}
        async with httpx.AsyncClient(timeout=self.config.webhook_timeout_seconds) as client:
            for label, body, signature in (
                ("valid", good, sign(self.key, good)),
                ("invalid", bad, sign(self.key + "-wrong", bad)),
            ):
                delivery = Delivery(self.url, body, signature)
                self.deliveries.append(delivery)
                try:
                    response = await client.post(
                        self.url,
                        content=body,
                        headers={"content-type": "application/json", "x-xero-signature": signature},
                    )
                    delivery.status_code = response.status_code
                    results[f"{label}_signature_status"] = response.status_code
                    results[f"{label}_signature_body_empty"] = response.content == b""
                except httpx.HTTPError as error:
                    delivery.error = f"{type(error).__name__}: {error}"
                    results[f"{label}_signature_status"] = None
                    results[f"{label}_signature_error"] = delivery.error
        results["ok"] = (
            results.get("valid_signature_status") == 200 and results.get("invalid_signature_status") == 401
        )
        return results
