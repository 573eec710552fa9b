"""What a transport needs of the sender that drives it (``Sender`` provides it)."""

from __future__ import annotations

from typing import Protocol

from .retry import RetryPolicy
from .types import Endpoint


class SendOptions(Protocol):
    """A fan-out's concurrency, timeouts, retry policy and rate limit."""

    concurrency: int
    connect_timeout: float
    read_timeout: float
    retry: RetryPolicy

    def slot_delay(self, endpoint: Endpoint) -> float:
        """Take a request slot under the rate limit; return the seconds to wait for it."""
        ...
