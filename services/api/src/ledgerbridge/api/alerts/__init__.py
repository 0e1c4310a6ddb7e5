"""Alerts settings: SMTP, the outgoing webhook, what owners receive, and a test alert."""
