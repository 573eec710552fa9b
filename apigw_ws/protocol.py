"""The wire contract with API Gateway: headers, route keys, event types, limits, route selection.

Everything both sides of an integration request must agree on lives here once: the
headers the ``HTTP_PROXY`` integration sends (and the ``context.*`` variables that
provisioning maps into them), the route keys and their URL segments, the event types,
API Gateway's limits, and how a message's route is selected. The dispatch view, the
pipeline, provisioning, the local gateway and the test client all read it from here.
Imports no Django and no aiohttp.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

import attrs

from .ids import trace_id

# -- headers ------------------------------------------------------------------------------
# Spelled as API Gateway sends them; HTTP names are case-insensitive, and Django's
# ``request.headers`` and ``Event.headers`` hold the lower-case forms further down.

#: The mapped ``context.connectionId``.
CONNECTION_ID_HEADER = "Connectionid"
#: The mapped ``context.apiId``; the dispatch view reads it first.
API_ID_HEADER = "X-Apigw-Ws-Api-Id"
#: AWS's own api id header: the fallback (AWS may not send it on ``$connect``).
AWS_API_ID_HEADER = "X-Amzn-Apigateway-Api-Id"
#: The mapped ``context.identity.sourceIp``: rate limits key on it.
SOURCE_IP_HEADER = "X-Apigw-Ws-Source-Ip"
#: The mapped ``context.routeKey``.
ROUTE_KEY_HEADER = "X-Apigw-Ws-Route-Key"
#: The mapped ``context.eventType``.
EVENT_TYPE_HEADER = "X-Apigw-Ws-Event-Type"
#: The static secret every integration that provisioning creates adds.
SECRET_HEADER = "X-Apigw-Ws-Secret"
#: Headers API Gateway adds on its own.
TRACE_ID_HEADER = "X-Amzn-Trace-Id"
FORWARDED_FOR_HEADER = "X-Forwarded-For"
FORWARDED_PORT_HEADER = "X-Forwarded-Port"
FORWARDED_PROTO_HEADER = "X-Forwarded-Proto"
USER_AGENT_HEADER = "User-Agent"
#: The ``User-Agent`` of every integration request but ``$connect``'s.
GATEWAY_USER_AGENT = "AmazonAPIGateway_{api_id}"

#: The lower-case names, as ``request.headers`` (``Event.headers``) holds them.
CONNECTION_ID_HEADER_LOWER = CONNECTION_ID_HEADER.lower()
API_ID_HEADER_LOWER = API_ID_HEADER.lower()
AWS_API_ID_HEADER_LOWER = AWS_API_ID_HEADER.lower()
SOURCE_IP_HEADER_LOWER = SOURCE_IP_HEADER.lower()
SECRET_HEADER_LOWER = SECRET_HEADER.lower()

#: header -> the ``context.*`` variable API Gateway puts in it; never client-settable.
#: Not ``X-Amzn-Apigateway-Api-Id`` for the api id: AWS owns the ``x-amzn-`` names (and
#: sets that one itself on message routes).
CONTEXT_HEADERS: Mapping[str, str] = MappingProxyType(
    {
        CONNECTION_ID_HEADER: "context.connectionId",
        API_ID_HEADER: "context.apiId",
        SOURCE_IP_HEADER: "context.identity.sourceIp",
        ROUTE_KEY_HEADER: "context.routeKey",
        EVENT_TYPE_HEADER: "context.eventType",
    }
)
#: The integration request parameter that sets a header.
HEADER_PARAMETER = "integration.request.header.{}"

#: Name prefixes and names that only the gateway sets: a client that sends its own
#: ``X-Apigw-Ws-Source-Ip`` or ``Connectionid`` must not reach Django with it.
GATEWAY_OWNED_PREFIXES = ("x-apigw-ws-", "x-amzn-", "x-forwarded-")
GATEWAY_OWNED_HEADERS = frozenset({CONNECTION_ID_HEADER_LOWER, "x-real-ip"})

# -- route keys ---------------------------------------------------------------------------

CONNECT_ROUTE = "$connect"
DISCONNECT_ROUTE = "$disconnect"
DEFAULT_ROUTE = "$default"

#: The URL segments (``ws/<segment>``) of the predefined routes.
CONNECT = "connect"
DISCONNECT = "disconnect"
DEFAULT = "default"

#: URL route -> API Gateway route key, for the three predefined routes.
PREDEFINED_ROUTE_KEYS: Mapping[str, str] = MappingProxyType(
    {CONNECT: CONNECT_ROUTE, DISCONNECT: DISCONNECT_ROUTE, DEFAULT: DEFAULT_ROUTE}
)

#: API Gateway's default route selection expression, and the body key it reads.
ACTION_KEY = "action"
DEFAULT_ROUTE_SELECTION_EXPRESSION = f"$request.body.{ACTION_KEY}"


def route_key_for(route: str) -> str:
    """Return the API Gateway route key that the URL route ``route`` serves."""
    return PREDEFINED_ROUTE_KEYS.get(route, route)


def url_route_for(route_key: str) -> str:
    """Return the URL path segment (``ws/<segment>``) of a route key."""
    return route_key[1:] if route_key.startswith("$") else route_key


# -- event types --------------------------------------------------------------------------

CONNECT_EVENT = "CONNECT"
DISCONNECT_EVENT = "DISCONNECT"
MESSAGE_EVENT = "MESSAGE"

#: route key -> ``context.eventType``; every other route key is a ``MESSAGE``.
EVENT_TYPES: Mapping[str, str] = MappingProxyType(
    {CONNECT_ROUTE: CONNECT_EVENT, DISCONNECT_ROUTE: DISCONNECT_EVENT}
)


def event_type_for(route_key: str) -> str:
    """Return the ``context.eventType`` of a request on ``route_key``."""
    return EVENT_TYPES.get(route_key, MESSAGE_EVENT)


# -- AWS limits ---------------------------------------------------------------------------

#: Largest message, and largest ``post_to_connection`` payload: 128 KB (131072 bytes).
MAX_MESSAGE_BYTES = 128 * 1024
#: Largest client frame: 32 KB (browsers send each message as one frame).
MAX_FRAME_BYTES = 32 * 1024
#: How long an integration may take to answer.
INTEGRATION_TIMEOUT_SECONDS = 29
#: A connection with no traffic for this long is closed.
IDLE_TIMEOUT_SECONDS = 600
#: No connection lives longer than this.
MAX_CONNECTION_SECONDS = 7200


# -- the integration request --------------------------------------------------------------


def integration_headers(
    route_key: str,
    *,
    connection_id: str,
    api_id: str,
    source_ip: str,
    forwarded_for: str,
    port: int,
    scheme: str,
    secret: str | None = None,
) -> dict[str, str]:
    """Return the headers API Gateway's integration adds to a request on ``route_key``.

    The mapped ``context.*`` headers, the secret header (when ``secret`` is given), the
    forwarding and trace headers, and ``User-Agent: AmazonAPIGateway_<api id>`` on every
    route but ``$connect`` (which forwards the browser's handshake headers instead).
    """
    headers = {
        CONNECTION_ID_HEADER: connection_id,
        AWS_API_ID_HEADER: api_id,
        TRACE_ID_HEADER: trace_id(),
        FORWARDED_FOR_HEADER: forwarded_for,
        FORWARDED_PORT_HEADER: str(port),
        FORWARDED_PROTO_HEADER: scheme,
        API_ID_HEADER: api_id,
        SOURCE_IP_HEADER: source_ip,
        ROUTE_KEY_HEADER: route_key,
        EVENT_TYPE_HEADER: event_type_for(route_key),
    }
    if secret is not None:
        headers[SECRET_HEADER] = secret
    if route_key != CONNECT_ROUTE:
        headers[USER_AGENT_HEADER] = GATEWAY_USER_AGENT.format(api_id=api_id)
    return headers


# -- route selection ----------------------------------------------------------------------
# A JSON message whose selected value names a route with an integration goes to that
# route; anything else (not JSON, not an object, no such key, an unknown route) goes to
# ``$default``. Without a ``$default`` route such a message goes nowhere.

_PATH = r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*"
_WHOLE_RE = re.compile(rf"\$request\.body\.({_PATH})")
_PART_RE = re.compile(rf"\$\{{request\.body\.({_PATH})\}}")


def _lookup(body: Any, path: tuple[str, ...]) -> str | None:
    for key in path:
        if not isinstance(body, dict) or key not in body:
            return None
        body = body[key]
    if isinstance(body, bool):
        return "true" if body else "false"
    if isinstance(body, str | int | float):
        return str(body)
    return None


@attrs.frozen
class RouteSelector:
    """A parsed route selection expression and the route keys that have an integration.

    Supported expressions: ``$request.body.<path>`` and templates made of literal text
    and ``${request.body.<path>}`` parts, where ``<path>`` may be dotted (``a.b``).
    """

    expression: str
    routes: frozenset[str]
    _parts: tuple[str | tuple[str, ...], ...] = attrs.field(repr=False)

    @classmethod
    def parse(cls, expression: str, routes: Iterable[str]) -> RouteSelector:
        """Return the selector of ``expression``; raise ``ValueError`` if unsupported."""
        whole = _WHOLE_RE.fullmatch(expression)
        parts: list[str | tuple[str, ...]] = []
        if whole:
            parts.append(tuple(whole.group(1).split(".")))
        else:
            position = 0
            for match in _PART_RE.finditer(expression):
                parts.append(expression[position : match.start()])
                parts.append(tuple(match.group(1).split(".")))
                position = match.end()
            parts.append(expression[position:])
            if not any(isinstance(part, tuple) for part in parts) or any(
                isinstance(part, str) and "$" in part for part in parts
            ):
                raise ValueError(
                    f"unsupported route selection expression {expression!r}: use"
                    " '$request.body.<key>' or a template of '${request.body.<key>}' parts"
                )
        return cls(expression, frozenset(routes), tuple(p for p in parts if p != ""))

    def selected_value(self, body: bytes) -> str | None:
        """Return what the expression evaluates to on a message, or ``None``."""
        try:
            message = json.loads(body)
        except (ValueError, RecursionError):  # RecursionError: "[[[[..." nested too deep
            return None
        values = []
        for part in self._parts:
            if isinstance(part, str):
                values.append(part)
                continue
            value = _lookup(message, part)
            if value is None:
                return None
            values.append(value)
        return "".join(values)

    def select(self, body: bytes) -> str | None:
        """Return the route key of a message, or ``None`` if no route takes it."""
        value = self.selected_value(body)
        # Messages never reach $connect or $disconnect, whatever they say.
        if value is not None and value in self.routes and not value.startswith("$"):
            return value
        return DEFAULT_ROUTE if DEFAULT_ROUTE in self.routes else None
