"""The tenant's mappings from ONTRAPORT/Onport ids to Xero accounts, tax codes, themes and contacts."""
