"""The ledgerbridge command line."""
