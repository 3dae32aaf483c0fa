"""Faktory Enterprise job tracking: the wire format (wire.py), the job a push sends (job.py), the adapter (api.py)."""
