"""Historical imports (SPEC.md §4.10): a date range or the last N records, run as a job with progress."""
