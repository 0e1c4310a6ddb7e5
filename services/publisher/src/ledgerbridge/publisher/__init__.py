"""ledgerbridge.publisher."""
