"""A local stand-in for Xero's identity and accounting APIs."""
