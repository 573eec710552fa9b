"""Retries with capped exponential backoff and full jitter, the same for every transport.

A transport makes an attempt; when it raises ``Retry``, it asks ``RetryPolicy.pause`` how
long to wait before the next one (and sleeps or awaits that long). ``pause`` raises the
final ``Fail`` once the attempts are used up.
"""

from __future__ import annotations

import random

import attrs

from .outcome import Fail, Retry


@attrs.define
class RetryPolicy:
    """``max_attempts`` tries per recipient; before retry ``n`` a pause uniform in
    ``[0, min(max_delay, base_delay * 2**n)]``."""

    max_attempts: int = 5
    base_delay: float = 0.05
    max_delay: float = 2.0
    # Not for security: jitter only spreads retries out.
    _random: random.Random = attrs.field(factory=random.Random, repr=False)

    def __attrs_post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def backoff(self, attempt: int) -> float:
        """Return the pause before retry number ``attempt + 1`` (full jitter, capped)."""
        return self._random.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))

    def pause(self, retry: Retry, attempt: int) -> float:
        """Return the pause after failed ``attempt`` (0-based); ``Fail`` if it was the last."""
        if attempt + 1 >= self.max_attempts:
            raise Fail(
                f"{retry.error} (gave up after {self.max_attempts} attempts)",
                retry.status,
            )
        return self.backoff(attempt)
