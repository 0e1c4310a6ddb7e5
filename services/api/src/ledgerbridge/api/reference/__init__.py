"""Reference data for the setup screens: the organisation's Xero data and the ONTRAPORT catalogue."""
