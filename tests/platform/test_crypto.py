"""Credentials are encrypted at rest, readable after a key rotation, and never stored in the clear."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.common.crypto import Cipher, DecryptionError
from ledgerbridge.common.models import Account, Connection, ConnectionKind

SECRET = "xero-refresh-token-7f3a9c"


async def test_stored_bytes_do_not_contain_the_secret(db: AsyncSession) -> None:
    cipher = Cipher([Fernet.generate_key().decode()])
    account = Account(company="Acme")
    db.add(account)
    await db.flush()
    db.add(
        Connection(
            account_id=account.id,
            kind=ConnectionKind.xero,
            credentials=cipher.encrypt_json({"refresh_token": SECRET}),
        )
    )
    await db.flush()
    raw = (await db.execute(text("SELECT credentials FROM connections"))).scalar_one()
    assert SECRET.encode() not in bytes(raw)
    assert cipher.decrypt_json(bytes(raw)) == {"refresh_token": SECRET}


def test_rotation_keeps_old_tokens_readable_and_moves_them_to_the_new_key() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    stored = Cipher([old]).encrypt_json({"api_key": SECRET})
    rotated_cipher = Cipher([new, old])
    assert rotated_cipher.decrypt_json(stored) == {"api_key": SECRET}
    rotated = rotated_cipher.rotate(stored)
    assert Cipher([new]).decrypt_json(rotated) == {"api_key": SECRET}
    with pytest.raises(DecryptionError, match="ENCRYPTION_KEYS"):
        Cipher([old]).decrypt_json(rotated)
