"""Webhook receivers for Xero, ONTRAPORT and Onport (SPEC.md §3.1, §3.2, §3.3).

Receivers only verify, store in the inbox and queue a message, in one transaction: no partner API is
called while the partner waits for the answer.
"""
