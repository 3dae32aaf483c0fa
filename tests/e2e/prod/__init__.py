"""The production-shaped deployment: PostgreSQL, CeleryExecutor on Redis, two workers, two triggerers."""
