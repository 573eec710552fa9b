"""The immutable event the dispatch view builds from each API Gateway request."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import attrs

CONNECT = "connect"
DISCONNECT = "disconnect"
DEFAULT = "default"

#: URL route -> API Gateway route key, for the three predefined routes.
PREDEFINED_ROUTE_KEYS = {CONNECT: "$connect", DISCONNECT: "$disconnect", DEFAULT: "$default"}


def route_key_for(route: str) -> str:
    """Return the API Gateway route key that the URL route ``route`` serves."""
    return PREDEFINED_ROUTE_KEYS.get(route, route)


def url_route_for(route_key: str) -> str:
    """Return the URL path segment (``ws/<segment>``) of a route key."""
    return route_key[1:] if route_key.startswith("$") else route_key


def _frozen_map(value: Mapping[str, str]) -> Mapping[str, str]:
    # Already frozen (``attrs.evolve`` passes the field on): no copy needed.
    return value if isinstance(value, MappingProxyType) else MappingProxyType(dict(value))


@attrs.frozen
class Event:
    """One request from API Gateway: a connect, a disconnect or a message.

    ``headers`` has lower-case names. ``body`` is the raw request body.
    """

    route: str
    connection_id: str
    api_id: str
    headers: Mapping[str, str] = attrs.field(converter=_frozen_map, repr=False)
    query: Mapping[str, str] = attrs.field(converter=_frozen_map, factory=dict)
    body: bytes = attrs.field(default=b"", repr=False)
    source_ip: str = ""

    @property
    def route_key(self) -> str:
        """Return the API Gateway route key (``$connect``, ``$default``, ``chat``...)."""
        return route_key_for(self.route)

    @property
    def is_connect(self) -> bool:
        return self.route == CONNECT

    @property
    def is_disconnect(self) -> bool:
        return self.route == DISCONNECT

    def header(self, name: str, default: str = "") -> str:
        """Return a header by case-insensitive name."""
        return self.headers.get(name.lower(), default)
