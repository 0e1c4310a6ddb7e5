"""Connecting Xero organisations, ONTRAPORT and Onport accounts to the tenant."""
