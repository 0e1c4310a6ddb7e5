"""A local stand-in for the Onport (Jetti) REST API (``https://api.jetti.io/api``)."""

from ledgerbridge.sandbox.onport.app import create_app
from ledgerbridge.sandbox.onport.config import OnportSandboxConfig

__all__ = ["OnportSandboxConfig", "create_app"]
