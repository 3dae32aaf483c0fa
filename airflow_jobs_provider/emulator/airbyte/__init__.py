"""The emulated Airbyte public API v1: ``routes`` (handlers), ``shapes`` (jobs, problem+json), ``auth``."""
