"""Onport vendor bills (SPEC.md §5): purchase invoices and their Xero bills, "sync to Xero", vendors."""
