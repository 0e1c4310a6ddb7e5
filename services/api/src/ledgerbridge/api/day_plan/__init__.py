"""A Xero connection's day limit and the plan of its calls under it (SPEC §3.1)."""
