"""Encryption at rest for credentials (OAuth tokens, API keys).

MultiFernet: the first key encrypts, every key decrypts, so a key is rotated by putting the new one first
and running ``ledgerbridge rotate-keys`` before the old one is dropped.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class DecryptionError(RuntimeError):
    """Stored credentials cannot be read with any configured key."""


class Cipher:
    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is required")
        self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])

    def encrypt_json(self, value: dict[str, Any]) -> bytes:
        return self._fernet.encrypt(json.dumps(value, separators=(",", ":")).encode())

    def decrypt_json(self, token: bytes) -> dict[str, Any]:
        try:
            plain = self._fernet.decrypt(token)
        except InvalidToken as exc:
            raise DecryptionError("stored credentials cannot be decrypted with ENCRYPTION_KEYS") from exc
        decoded: dict[str, Any] = json.loads(plain)
        return decoded

    def rotate(self, token: bytes) -> bytes:
        """Re-encrypt under the first (newest) key."""
        try:
            return self._fernet.rotate(token)
        except InvalidToken as exc:
            raise DecryptionError("stored credentials cannot be decrypted with ENCRYPTION_KEYS") from exc


def webhook_token_hash(token: str) -> str:
    """What is stored of a webhook URL's token (``connections.webhook_token``): its SHA-256, so a
    database leak does not hand out working push URLs. The token itself is shown once, when the
    connection is made or its token rotated."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
