"""The emulated Tinybird Jobs API: ``routes`` (handlers), ``shapes`` (job JSON), ``sql`` (``/v0/sql``)."""
