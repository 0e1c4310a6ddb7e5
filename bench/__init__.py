"""Benchmarks of ledgerbridge against SPEC.md §7's call budget (``make bench``).

Prints figures; nothing here fails the run except a broken setup.
"""
