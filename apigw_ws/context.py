"""What handlers and hooks receive about the request they act on."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from . import subprotocols as _subprotocols
from .events import Event


def _no_sender(data: Any) -> Any:
    raise RuntimeError("this context has no sender: reply() needs a connected session")


@attrs.frozen
class ConnectContext:
    """A ``$connect`` being decided: who asks, for which channel, through which gateway.

    ``user`` is the user the token backend (or Django's session) identified, or an
    anonymous user. ``request`` is the Django ``HttpRequest`` (``None`` outside Django).
    """

    event: Event
    channel: str
    user: Any = None
    gateway: Any = None
    request: Any = attrs.field(default=None, repr=False)

    @property
    def connection_id(self) -> str:
        return self.event.connection_id

    @property
    def query(self) -> Mapping[str, str]:
        return self.event.query

    @property
    def subprotocols(self) -> tuple[str, ...]:
        """Return the valid subprotocols the client offered, in its order of preference."""
        return _subprotocols.offered(self.event.header("sec-websocket-protocol"))

    @property
    def subprotocol(self) -> str | None:
        """Return the subprotocol the connect response echoes: the first offered one
        that carries no token (see ``apigw_ws.subprotocols``), or ``None``."""
        return _subprotocols.choose(self.subprotocols)


@attrs.frozen
class MessageContext:
    """An inbound message on its way to a handler; the one argument a handler takes."""

    event: Event
    body: Mapping[str, Any]
    session: Any
    user: Any
    gateway: Any = None
    request: Any = attrs.field(default=None, repr=False)
    sender: Callable[[Any], Any] = attrs.field(default=_no_sender, repr=False)

    @property
    def connection_id(self) -> str:
        return self.event.connection_id

    @property
    def route(self) -> str:
        """Return the API Gateway route key the message arrived on."""
        return self.event.route_key

    @property
    def channel(self) -> str:
        return getattr(self.session, "channel_name", "")

    def reply(self, data: Any) -> Any:
        """Send ``data`` to this connection now, through the Management API."""
        return self.sender(data)


@attrs.frozen
class Reply:
    """A handler's answer with an explicit HTTP status (plain return values mean 200).

    The body reaches the client only where the route has a route response (see the
    security and provisioning docs); ``ctx.reply()`` always does.
    """

    data: Any = None
    status: int = attrs.field(default=200, validator=attrs.validators.in_(range(200, 500)))
