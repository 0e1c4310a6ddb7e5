"""The sandboxes by name, configured from their environment variables (`ledgerbridge sandbox KIND`)."""

from __future__ import annotations

from fastapi import FastAPI

KINDS = ("xero", "ontraport", "onport")


def create_sandbox_app(kind: str) -> FastAPI:
    if kind == "xero":
        from ledgerbridge.sandbox.xero.app import create_app as create_xero
        from ledgerbridge.sandbox.xero.config import XeroSandboxConfig

        return create_xero(XeroSandboxConfig.from_env())
    if kind == "ontraport":
        from ledgerbridge.sandbox.ontraport.app import create_app as create_ontraport
        from ledgerbridge.sandbox.ontraport.config import OntraportSandboxConfig

        return create_ontraport(OntraportSandboxConfig.from_env())
    if kind == "onport":
        from ledgerbridge.sandbox.onport.app import create_app as create_onport
        from ledgerbridge.sandbox.onport.config import OnportSandboxConfig

        return create_onport(OnportSandboxConfig.from_env())
    raise ValueError(f"unknown sandbox {kind!r}; choose one of {', '.join(KINDS)}")
