"""The sandboxes by name, configured from their environment variables (`ledgerbridge sandbox KIND`)."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI

from ledgerbridge.sandbox.persist import keep_state

KINDS = ("xero", "ontraport", "onport")


def create_sandbox_app(kind: str) -> FastAPI:
    """The sandbox; with ``SANDBOX_STATE_DIR`` set, its state survives restarts (see ``persist``)."""
    app = _create(kind)
    directory = os.environ.get("SANDBOX_STATE_DIR")
    if directory:
        keep_state(app, kind, Path(directory))
    return app


def _create(kind: str) -> FastAPI:
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
