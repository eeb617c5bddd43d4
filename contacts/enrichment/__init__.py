"""Enrichment: what can be inferred about a contact from what is known. Providers suggest
values; the service fills only what is empty and records each fill as algorithmic work."""
