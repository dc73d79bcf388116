"""The classroom hub: ingest, SQLite store, roster, rotation, grouping and the hub display.

Importing this package (or any module in it) has no side effects.
"""
