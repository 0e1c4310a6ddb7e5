"""Rollback: undoing what we made in Xero for a set of records."""
