"""The account's plan: trial limits and upgrading."""
