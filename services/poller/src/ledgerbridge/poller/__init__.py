"""ledgerbridge.poller."""
