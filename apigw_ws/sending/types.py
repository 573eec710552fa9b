"""The value types of sending: where a connection's API lives, who, which call, progress."""

from __future__ import annotations

from collections.abc import Callable

import attrs

#: Called with the number of recipients just settled (from a sending thread or the loop).
Progress = Callable[[int], object]


@attrs.frozen(cache_hash=True)
class Endpoint:
    """Where a connection's Management API lives, and which credentials sign for it."""

    url: str
    region: str | None = None
    profile: str | None = None


@attrs.frozen(slots=True)
class Recipient:
    """One connection to send to; ``endpoint`` is ``None`` when none could be worked out."""

    connection_id: str
    endpoint: Endpoint | None


@attrs.frozen
class Operation:
    """One Management API call: its HTTP method, body and boto3 method."""

    method: str
    client_method: str
    payload: bytes = b""
    #: A repeated call does no harm (a read timeout may be retried).
    idempotent: bool = True

    def boto3_kwargs(self, connection_id: str) -> dict[str, object]:
        if self.method == "POST":
            return {"ConnectionId": connection_id, "Data": self.payload}
        return {"ConnectionId": connection_id}


def post(payload: bytes) -> Operation:
    """Return the ``PostToConnection`` of ``payload`` (never repeated once it may have arrived)."""
    return Operation("POST", "post_to_connection", payload, idempotent=False)


CHECK = Operation("GET", "get_connection")
CLOSE = Operation("DELETE", "delete_connection")
