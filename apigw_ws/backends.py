"""The interfaces of the pluggable backends that hooks return."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import Callable

    from .context import ConnectContext
    from .recovery import Backlog


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


@runtime_checkable
class BacklogStore(Protocol):
    """Keeps the recent messages of each channel, numbered, for clients that reconnect."""

    def append(self, channel: str, message_id: str, encode: Callable[[int], str]) -> str:
        """Give ``channel``'s next sequence number to ``encode``; keep and return its text.

        Numbers start at 1 and never repeat within a channel. ``encode(seq)`` returns the
        message as sent (with ``message_id`` as its ``id``); the store trims the channel
        to its count and age limits.
        """

    def read(self, channel: str, after: int | None) -> Backlog:
        """Return the channel's latest sequence number and its kept messages after ``after``.

        ``after`` ``None`` asks only for the latest number. Messages past the age or
        count limit are not returned, even if not yet deleted.
        """
