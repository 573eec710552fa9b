"""A ceiling on Management API requests per second, shared by every send of the process.

API Gateway's ``@connections`` calls share the account's 10,000 requests a second per
region: a broadcast that took all of them would throttle every other sender of the
account. One ``RateLimit`` per (region, profile) spaces the requests of all fan-outs of
the process out to ``rate`` a second, allowing a burst of a tenth of a second's worth.
"""

from __future__ import annotations

import threading
import time

#: Requests a second per process and region; half the account's limit (``SEND_RATE_LIMIT``).
DEFAULT_RATE_LIMIT = 5000
BURST_SECONDS = 0.1


class RateLimit:
    """Hand out request slots at ``rate`` a second; ``reserve()`` says how long to wait."""

    def __init__(self, rate: float, *, burst_seconds: float = BURST_SECONDS) -> None:
        if rate <= 0:
            raise ValueError("the rate limit must be positive")
        self.rate = rate
        self._interval = 1.0 / rate
        self._burst = burst_seconds
        self._next = 0.0
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Take the next slot; return the seconds to wait before using it (often 0)."""
        with self._lock:
            now = time.monotonic()
            start = max(self._next, now - self._burst)
            self._next = start + self._interval
        return start - now if start > now else 0.0


_limits: dict[tuple[float, str | None, str | None], RateLimit] = {}
_limits_lock = threading.Lock()


def rate_limit(rate: float | None, region: str | None, profile: str | None) -> RateLimit | None:
    """Return the process's limit for (``region``, ``profile``) at ``rate``; ``None``: no limit."""
    if not rate:
        return None
    key = (rate, region, profile)
    with _limits_lock:
        limit = _limits.get(key)
        if limit is None:
            limit = _limits[key] = RateLimit(rate)
        return limit
