"""Polling on demand ("sync now") and the state of every connection's sync."""
