"""ledgerbridge.common."""
