"""Imports of contacts and touchpoints from files (CSV or JSON Lines).

A file is streamed, never held in memory: `reader` turns bytes into numbered records,
`fields` cleans each value the way the rest of the product does, and the importers
(`contacts`, `touchpoints`) COPY the clean rows into a temporary staging table and
merge it with a handful of set-based statements per chunk. A row is either applied
whole or written to the rejects file (`rejects`) with its line number and the reason.
"""
