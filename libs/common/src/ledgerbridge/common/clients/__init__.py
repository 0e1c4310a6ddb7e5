"""Clients for the partner APIs (Xero, ONTRAPORT, Onport), shared by the API and the workers."""
