"""A local stand-in for the ONTRAPORT REST API (``https://api.ontraport.com/1``)."""

from ledgerbridge.sandbox.ontraport.app import create_app
from ledgerbridge.sandbox.ontraport.config import OntraportSandboxConfig

__all__ = ["OntraportSandboxConfig", "create_app"]
