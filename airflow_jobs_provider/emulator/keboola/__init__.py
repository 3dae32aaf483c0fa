"""The emulated Keboola Queue API: ``routes`` (handlers), ``shapes`` (the job object), ``search``."""
