"""The reconciliation report: the source beside Xero."""
