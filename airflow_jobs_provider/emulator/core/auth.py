"""The one check every emulated API makes: did the client send the emulator's token?"""

from __future__ import annotations

import hmac


def same_secret(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a secret a client sent; a missing or empty one never matches."""
    if not given:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())
