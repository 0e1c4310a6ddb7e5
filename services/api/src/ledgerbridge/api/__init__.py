"""ledgerbridge.api."""
