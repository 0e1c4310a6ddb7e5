"""Alembic migrations for the whole schema."""
