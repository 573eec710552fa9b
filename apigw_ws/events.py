"""The immutable event the dispatch view builds from each API Gateway request."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import attrs

# The route names and their mapping live in the wire contract; imported from here too.
from .protocol import (
    CONNECT,
    DEFAULT,
    DISCONNECT,
    PREDEFINED_ROUTE_KEYS,
    route_key_for,
    url_route_for,
)

__all__ = [
    "CONNECT",
    "DEFAULT",
    "DISCONNECT",
    "PREDEFINED_ROUTE_KEYS",
    "Event",
    "route_key_for",
    "url_route_for",
]


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
