"""Airbyte's public API: the adapter (api.py) and how a connection authenticates (auth.py)."""
