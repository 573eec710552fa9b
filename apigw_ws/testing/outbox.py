"""An in-memory API Gateway Management API: every message the code sends, without a network.

``Outbox.capture()`` answers every Management API request (``.../@connections/{id}``)
while it is active, through ``apigw_ws.sending.intercept``: whatever the transport,
everything above the HTTP exchange runs for real (the sender's encoding and size checks,
signing, error parsing, retries, the gone-session bookkeeping). Any other AWS request
still goes out as usual. Calls from sending threads and the sending loop are captured
too. The bundled pytest plugin captures every test's sends in one (``ws_outbox``).

Answers can be made to fail per connection: ``gone`` (410), ``throttle`` (429),
``too_large`` (413), ``fail`` (any status) and ``forbid`` (403 for everything).
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import attrs

from apigw_ws.protocol import MAX_MESSAGE_BYTES

#: API Gateway's limit on a ``post_to_connection`` payload.
MAX_PAYLOAD_BYTES = MAX_MESSAGE_BYTES
_PATH_MARK = "/@connections/"
_ERROR_CODES = {
    403: "ForbiddenException",
    410: "GoneException",
    413: "PayloadTooLargeException",
    429: "LimitExceededException",
}


@attrs.frozen
class OutboundMessage:
    """One message the Management API accepted for a connection."""

    connection_id: str
    data: bytes = attrs.field(repr=False)
    endpoint: str = ""

    @property
    def text(self) -> str:
        return self.data.decode()

    def json(self) -> Any:
        """Return the payload decoded from JSON."""
        return json.loads(self.data)


@attrs.frozen
class Call:
    """One Management API request, whatever its answer: ``POST``, ``GET`` or ``DELETE``."""

    method: str
    connection_id: str
    status: int


def connection_id_of(connection: Any) -> str:
    """Return the id of ``connection``: a string, a test ``Connection`` or a session row."""
    return connection if isinstance(connection, str) else connection.connection_id


class Outbox:
    """Messages captured per connection, and the failures to simulate.

    Iterating, ``len()`` and indexing see the delivered messages in the order they were
    sent. ``calls`` lists every request including refused ones; ``closed`` the ids that
    ``DeleteConnection`` closed.
    """

    def __init__(self) -> None:
        self.messages: list[OutboundMessage] = []
        self.calls: list[Call] = []
        self.closed: list[str] = []
        self._gone: set[str] = set()
        self._faults: dict[str, tuple[int, int | None]] = {}  # id -> (status, times left)
        self._forbidden = False
        self._lock = threading.Lock()

    # -- reading -----------------------------------------------------------------------

    def __iter__(self) -> Iterator[OutboundMessage]:
        return iter(list(self.messages))

    def __len__(self) -> int:
        return len(self.messages)

    def __getitem__(self, index: int) -> OutboundMessage:
        return self.messages[index]

    def to(self, connection: Any) -> list[OutboundMessage]:
        """Return the messages delivered to ``connection`` (an id, ``Connection`` or session)."""
        cid = connection_id_of(connection)
        return [m for m in self.messages if m.connection_id == cid]

    def json(self, connection: Any = None) -> list[Any]:
        """Return the decoded payloads sent to ``connection``, or to anyone."""
        messages = self.messages if connection is None else self.to(connection)
        return [m.json() for m in messages]

    @property
    def recipients(self) -> set[str]:
        """Return the ids of the connections that got at least one message."""
        return {m.connection_id for m in self.messages}

    def clear(self) -> None:
        """Forget the captured messages and calls (simulated failures stay)."""
        with self._lock:
            self.messages.clear()
            self.calls.clear()
            self.closed.clear()

    # -- simulating ----------------------------------------------------------------------

    def gone(self, *connections: Any) -> None:
        """Answer 410 (``GoneException``) for these connections from now on."""
        self._gone.update(connection_id_of(c) for c in connections)

    def throttle(self, connection: Any, times: int | None = 1) -> None:
        """Answer 429 to the next ``times`` posts to ``connection`` (``None``: every one)."""
        self.fail(connection, 429, times=times)

    def too_large(self, connection: Any, times: int | None = None) -> None:
        """Answer 413 (``PayloadTooLargeException``) to posts to ``connection``."""
        self.fail(connection, 413, times=times)

    def fail(self, connection: Any, status: int = 500, times: int | None = None) -> None:
        """Answer ``status`` to the next ``times`` posts to ``connection`` (``None``: all)."""
        cid = connection_id_of(connection)
        if times == 0:
            self._faults.pop(cid, None)
        else:
            self._faults[cid] = (status, times)

    def forbid(self, forbidden: bool = True) -> None:
        """Answer 403 to every request, as AWS does when the credentials lack permission."""
        self._forbidden = forbidden

    # -- the fake endpoint ---------------------------------------------------------------

    @contextlib.contextmanager
    def capture(self) -> Iterator[Outbox]:
        """Answer every Management API request from this outbox while the block runs."""
        from apigw_ws.sending import intercept

        with intercept.responding(self.answer):
            yield self

    def answer(self, method: str, url: str, body: bytes) -> Any:
        """Return the ``Answer`` API Gateway would give, recording the call."""
        from apigw_ws.sending.intercept import Answer

        parts = urlsplit(url)
        base, _, quoted = parts.path.partition(_PATH_MARK)
        cid = unquote(quoted)
        data = bytes(body or b"")
        with self._lock:
            status = self._status(method, cid, data)
            self.calls.append(Call(method, cid, status))
            if status == 200 and method == "POST":
                endpoint = f"{parts.scheme}://{parts.netloc}{base}"
                self.messages.append(OutboundMessage(cid, data, endpoint))
            if status == 204:
                self.closed.append(cid)
                self._gone.add(cid)
        headers = {"Content-Type": "application/json"}
        payload = b""
        if status in _ERROR_CODES or status >= 500:
            headers["x-amzn-ErrorType"] = _ERROR_CODES.get(status, "InternalServerErrorException")
            payload = b'{"message": null}'
        elif method == "GET":
            payload = json.dumps(_connection_info()).encode()
        return Answer(status, headers, payload)

    def _status(self, method: str, cid: str, data: bytes) -> int:
        if self._forbidden:
            return 403
        if cid in self._gone:
            return 410
        if method == "DELETE":
            return 204
        if method != "POST":
            return 200
        if len(data) > MAX_PAYLOAD_BYTES:
            return 413
        if cid not in self._faults:
            return 200
        status, left = self._faults[cid]
        if left is not None:  # counted faults are used up; open-ended ones stay
            if left > 1:
                self._faults[cid] = (status, left - 1)
            else:
                del self._faults[cid]
        return status


def _connection_info() -> dict[str, Any]:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {
        "ConnectedAt": now,
        "LastActiveAt": now,
        "Identity": {"SourceIp": "203.0.113.7", "UserAgent": "apigw_ws outbox"},
    }
