"""Fault and latency injection on the Management API, for tests and benchmarks.

Real API Gateway throttles (429, shared with the account's 10,000 requests/s), fails
now and then (5xx), and answers 410 for connections that vanished without a
``$disconnect``. Sending code has to survive all three; these knobs make them happen on
demand and reproducibly (``seed``).
"""

from __future__ import annotations

import random
from collections.abc import Iterable

import attrs


def _rate(_instance: object, attribute: attrs.Attribute, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be between 0 and 1, got {value!r}")


def _non_negative(_instance: object, attribute: attrs.Attribute, value: float) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must be >= 0, got {value!r}")


def _ids(value: Iterable[str]) -> frozenset[str]:
    return frozenset([value] if isinstance(value, str) else value)


@attrs.frozen(kw_only=True)
class Faults:
    """What the Management API gets wrong on purpose.

    ``latency`` seconds are added to every call; ``throttle_rate`` and ``error_rate``
    are the fractions of calls answered 429 and 500; ``gone`` ids are always answered 410.
    """

    latency: float = attrs.field(default=0.0, converter=float, validator=_non_negative)
    throttle_rate: float = attrs.field(default=0.0, converter=float, validator=_rate)
    error_rate: float = attrs.field(default=0.0, converter=float, validator=_rate)
    gone: frozenset[str] = attrs.field(default=frozenset(), converter=_ids)
    seed: int | None = None

    def __attrs_post_init__(self) -> None:
        if self.throttle_rate + self.error_rate > 1.0:
            raise ValueError("throttle_rate + error_rate must not exceed 1")

    @property
    def active(self) -> bool:
        return bool(self.latency or self.throttle_rate or self.error_rate or self.gone)

    def new_random(self) -> random.Random:
        # Not for security: a seeded generator makes a fault pattern repeatable.
        return random.Random(self.seed)  # noqa: S311

    def status_for(self, connection_id: str, rng: random.Random) -> int | None:
        """Return the status an injected fault answers this call with, or ``None``."""
        if connection_id in self.gone:
            return 410
        if self.throttle_rate or self.error_rate:
            draw = rng.random()
            if draw < self.throttle_rate:
                return 429
            if draw < self.throttle_rate + self.error_rate:
                return 500
        return None
