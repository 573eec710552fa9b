"""The interfaces of the pluggable backends that hooks return."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .context import ConnectContext


@runtime_checkable
class TokenBackend(Protocol):
    """Authenticates a ``$connect`` from the token it carries."""

    def authenticate(self, context: ConnectContext) -> Any | None:
        """Return the user the token names and spend it; ``None`` if there is no token.

        Raise ``apigw_ws.Forbidden`` for an invalid, expired or already used token.
        """


@runtime_checkable
class RateLimitStore(Protocol):
    """Counts attempts per key within a sliding or fixed window."""

    def hit(self, key: str, *, limit: int, window: int) -> int:
        """Record one attempt; return 0 if allowed, else the seconds until retry."""
