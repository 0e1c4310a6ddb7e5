"""Where the local sandboxes listen, and the settings that point the product at them."""

from __future__ import annotations

SANDBOX_PORTS = {"xero": 8101, "ontraport": 8102, "onport": 8103}


def sandbox_environment(xero: str, ontraport: str, onport: str) -> dict[str, str]:
    """Point every external API setting (SPEC.md §3) at sandboxes serving on these base URLs."""
    return {
        "XERO_API_URL": f"{xero}/api.xro/2.0",
        "XERO_CONNECTIONS_URL": f"{xero}/connections",
        "XERO_AUTHORIZE_URL": f"{xero}/identity/connect/authorize",
        "XERO_TOKEN_URL": f"{xero}/identity/connect/token",
        "XERO_REVOKE_URL": f"{xero}/identity/connect/revocation",
        "XERO_CLIENT_ID": "sandbox-client",
        "XERO_CLIENT_SECRET": "sandbox-secret",
        "ONTRAPORT_API_URL": ontraport,
        "ONPORT_API_URL": onport,
    }
