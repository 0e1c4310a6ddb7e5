"""The tenant's sync options (SPEC.md §4, §5)."""
