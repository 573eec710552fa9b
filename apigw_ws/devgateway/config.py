"""What one local gateway emulates: its API, its routes, its limits and its faults.

The defaults are API Gateway's own numbers (``AWS facts`` in the design notes); tests
shrink the timeouts to make idle and slow-backend behaviour quick to observe.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

import attrs

from apigw_ws import protocol
from apigw_ws.handlers import validate_route_key
from apigw_ws.protocol import DEFAULT_ROUTE, RouteSelector
from apigw_ws.protocol import DEFAULT_ROUTE_SELECTION_EXPRESSION as DEFAULT_EXPRESSION
from apigw_ws.validation import API_ID_RE

from .faults import Faults

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8001
DEFAULT_STAGE = "local"
DEFAULT_API_ID = "local"

INTEGRATION_TIMEOUT = float(protocol.INTEGRATION_TIMEOUT_SECONDS)
IDLE_TIMEOUT = float(protocol.IDLE_TIMEOUT_SECONDS)
MAX_DURATION = float(protocol.MAX_CONNECTION_SECONDS)
MAX_FRAME_BYTES = protocol.MAX_FRAME_BYTES
MAX_PAYLOAD_BYTES = protocol.MAX_MESSAGE_BYTES


def _target(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"target must be an http(s) URL such as http://127.0.0.1:8000/ws/, got {value!r}"
        )
    if parts.query or parts.fragment:
        raise ValueError(f"target must not have a query or fragment, got {value!r}")
    return value if value.endswith("/") else value + "/"


def _route_keys(value: Iterable[str]) -> frozenset[str]:
    keys = frozenset([value] if isinstance(value, str) else value)
    for key in keys:
        validate_route_key(key)
    return keys


def _optional_route_keys(value: Iterable[str] | None) -> frozenset[str] | None:
    return None if value is None else _route_keys(value)


def _positive(_instance: object, attribute: attrs.Attribute, value: float) -> None:
    if value <= 0:
        raise ValueError(f"{attribute.name} must be > 0, got {value!r}")


def _api_id(_instance: object, _attribute: attrs.Attribute, value: str) -> None:
    if not API_ID_RE.fullmatch(value):
        raise ValueError(f"api_id must match {API_ID_RE.pattern}, got {value!r}")


def _stage(_instance: object, _attribute: attrs.Attribute, value: str) -> None:
    if not value or "/" in value or value.startswith("@"):
        raise ValueError(f"stage must be a non-empty path segment, got {value!r}")


def is_loopback(host: str) -> bool:
    """Return whether binding ``host`` keeps the gateway reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


#: Defaults of ``max_in_flight`` and ``send_timeout``.
MAX_IN_FLIGHT = 32
SEND_TIMEOUT = 10.0


@attrs.frozen(kw_only=True)
class GatewayConfig:
    """Everything a ``DevGateway`` needs; every value but ``target`` has AWS's default.

    ``routes`` are the message route keys that have an integration (``$connect`` and
    ``$disconnect`` always have one). ``route_responses`` are the route keys whose
    Django answer goes back to the client; ``None`` means every route, ``()`` none.
    ``port=0`` picks a free port. ``keep_alive=False`` opens a new connection to Django
    per event: slower under load, but it avoids the ~40 ms delayed-ACK pause that Django's
    development server adds to every request on a reused connection.
    """

    target: str = attrs.field(converter=_target)
    api_id: str = attrs.field(default=DEFAULT_API_ID, validator=_api_id)
    stage: str = attrs.field(default=DEFAULT_STAGE, validator=_stage)
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    secret: str | None = attrs.field(default=None, repr=False)
    route_selection_expression: str = DEFAULT_EXPRESSION
    routes: frozenset[str] = attrs.field(default=frozenset({DEFAULT_ROUTE}), converter=_route_keys)
    route_responses: frozenset[str] | None = attrs.field(
        default=None, converter=_optional_route_keys
    )
    integration_timeout: float = attrs.field(default=INTEGRATION_TIMEOUT, validator=_positive)
    idle_timeout: float = attrs.field(default=IDLE_TIMEOUT, validator=_positive)
    max_duration: float = attrs.field(default=MAX_DURATION, validator=_positive)
    max_frame_bytes: int = attrs.field(default=MAX_FRAME_BYTES, validator=_positive)
    max_payload_bytes: int = attrs.field(default=MAX_PAYLOAD_BYTES, validator=_positive)
    max_forward_connections: int = attrs.field(default=100, validator=_positive)
    keep_alive: bool = True
    close_timeout: float = attrs.field(default=5.0, validator=_positive)
    #: Messages of one connection forwarded to Django at once; more are answered
    #: "Too Many Requests" and dropped, as API Gateway throttles (one client, one share).
    max_in_flight: int = attrs.field(default=MAX_IN_FLIGHT, validator=_positive)
    #: How long a write to a client may wait for it to read; a slower one is dropped.
    send_timeout: float = attrs.field(default=SEND_TIMEOUT, validator=_positive)
    faults: Faults = attrs.field(factory=Faults)
    selector: RouteSelector = attrs.field(init=False, repr=False, eq=False)

    @selector.default
    def _selector(self) -> RouteSelector:
        return RouteSelector.parse(self.route_selection_expression, self.routes)

    def has_route_response(self, route_key: str) -> bool:
        """Return whether Django's answer on ``route_key`` is sent back to the client."""
        return self.route_responses is None or route_key in self.route_responses

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)
