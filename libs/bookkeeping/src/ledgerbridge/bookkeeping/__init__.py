"""The bookkeeping rules: source records in, Xero documents (or a reason why not) out.

Pure: the standard library and pydantic only, no I/O and no clock; every input, including what Xero
already holds for a record, is passed in. ``sales`` maps ONTRAPORT sales (SPEC §4), ``bills`` maps
Onport purchase invoices (SPEC §5); both decide with the same :mod:`decisions`, build the same
:mod:`documents` and name their reasons from the same :mod:`reasons`.
"""
