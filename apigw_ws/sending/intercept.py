"""Where Management API requests go instead of the network: the seam tests use.

Like Django's test runner swapping in the locmem e-mail backend, the bundled pytest plugin
installs a ``Responder`` (``apigw_ws.testing.Outbox``) for every test: each transport
builds, signs and sends its request as usual up to the HTTP exchange, and hands that to
the responder instead, then reads its ``Answer`` as it would read the gateway's. Only the
Management API is intercepted; every other request is untouched. Process-wide, so sending
threads and the event loop see it too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping

import attrs


@attrs.frozen
class Answer:
    """An HTTP answer as the Management API would give it."""

    status: int
    headers: Mapping[str, str] = attrs.field(factory=dict)
    body: bytes = b""


#: ``responder(method, url, body)``: ``url`` as it goes on the wire (percent-encoded).
Responder = Callable[[str, str, bytes], Answer]

_responder: Responder | None = None


def current() -> Responder | None:
    """Return the responder answering Management API requests now, if any."""
    return _responder


@contextlib.contextmanager
def responding(responder: Responder | None) -> Iterator[None]:
    """Let ``responder`` answer every Management API request while the block runs.

    ``None`` lets requests reach the network within the block (the opt-out of a test
    that wants the real, loopback, gateway).
    """
    global _responder
    previous, _responder = _responder, responder
    try:
        yield
    finally:
        _responder = previous
