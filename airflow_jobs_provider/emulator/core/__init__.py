"""What every emulated API shares: the job store, the job lifecycle and scripts, the access log,
fault injection, and small HTTP helpers (error responses, JSON bodies, timestamps).

Nothing here knows a particular API: API packages build on it, never the other way round.
"""
