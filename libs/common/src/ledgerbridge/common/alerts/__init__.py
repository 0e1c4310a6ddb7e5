"""Alerts to an account's owners: by e-mail and by an outgoing webhook, from an outbox, coalesced."""
