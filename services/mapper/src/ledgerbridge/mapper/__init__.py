"""ledgerbridge.mapper."""
