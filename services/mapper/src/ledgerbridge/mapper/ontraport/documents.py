"""Version of the ONTRAPORT mapping; the document types themselves are shared (:mod:`ledgerbridge.mapper.documents`)."""

MAPPING_VERSION = "ontraport-xero/1"
"""Bumped whenever the same inputs would map to different documents."""
