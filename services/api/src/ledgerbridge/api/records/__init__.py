"""Synced records: their state, documents and history; retrying and previewing them (SPEC.md §6)."""
