"""Durable messaging: outbox → relay → queue → consumer with inbox; a sweeper re-sends what Redis lost."""
