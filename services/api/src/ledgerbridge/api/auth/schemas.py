"""Request and response bodies of the auth endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from ledgerbridge.common.models import Plan, Role

# Long enough to resist guessing, short enough that hashing an attacker's megabyte cannot stall us.
Password = Field(min_length=10, max_length=128, examples=["correct horse battery"])


def _normalise_email(value: str) -> str:
    # Mailbox names are case-insensitive in practice; one person must not get two accounts by case.
    return value.strip().lower()


class SignupIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"email": "owner@example.com", "password": "correct horse battery", "company": "Acme Pty Ltd"}
            ]
        },
    )

    email: EmailStr
    password: str = Password
    company: str = Field(min_length=1, max_length=200)

    _email = field_validator("email")(_normalise_email)


class InviteIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"email": "books@example.com", "password": "another long secret", "role": "bookkeeper"}
            ]
        },
    )

    email: EmailStr
    password: str = Password
    role: Role = Role.bookkeeper

    _email = field_validator("email")(_normalise_email)


class RoleIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"role": "owner"}]})

    role: Role


class PasswordResetIn(BaseModel):
    """An owner sets a new password for a user of the account; that user's sessions end at once."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"password": "a new long secret"}]}
    )

    password: str = Password


class PasswordChangeIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"current_password": "correct horse battery", "new_password": "a new long secret"}]
        },
    )

    current_password: str = Field(min_length=1, max_length=128)
    new_password: str = Password


class RefreshIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"refresh_token": "mF1c…the token from /v1/auth/token"}]},
    )

    refresh_token: str = Field(min_length=1, max_length=200)


class TokenPair(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9…",
                    "token_type": "bearer",
                    "expires_in": 900,
                    "refresh_token": "mF1c…",
                }
            ]
        }
    )

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int = Field(description="Seconds until the access token expires")
    refresh_token: str = Field(description="Single use: exchange it at /v1/auth/refresh for a new pair")


class UserOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "5f0c3c8e-4d1e-4f55-9a0e-2b7f6a1c9d10",
                    "account_id": "0a7e5b52-96c4-4c1b-8a53-1f1d3c2e4b77",
                    "email": "owner@example.com",
                    "role": "owner",
                    "created_at": "2026-01-05T10:00:00Z",
                }
            ]
        },
    )

    id: uuid.UUID
    account_id: uuid.UUID
    email: str
    role: Role
    created_at: datetime


class UserList(BaseModel):
    items: list[UserOut]


class AccountOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    company: str
    plan: Plan


class Me(UserOut):
    account: AccountOut
