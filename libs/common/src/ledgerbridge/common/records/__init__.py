"""A source record's life: its states, the moves between them, why it waits or fails, and what the
bookkeeping core decides for it.

- :mod:`lifecycle` owns the states, the one table of allowed moves, and the only functions that move a
  record (every move writes its audit row).
- :mod:`decide` is the one function that loads a record's inputs and asks the pure core
  (:mod:`ledgerbridge.bookkeeping`) what Xero needs: the mapper applies its answer, the API's preview
  shows it.
- :mod:`core_inputs` reads the tenant's mappings, options and what Xero already holds into the core's types.
"""
