"""Rules that make matching transactions tax inclusive with a given tax code (SPEC.md §4.5)."""
