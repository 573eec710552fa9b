"""How the gateway calls Django: one HTTP POST per event, with API Gateway's headers.

This is the ``HTTP_PROXY`` integration that ``apigw_ws`` provisioning creates: the
``connectionId``, source IP, route key and event type mapped into headers, the static
secret header, ``User-Agent: AmazonAPIGateway_<api id>`` on every route but ``$connect``
(which forwards the browser's handshake headers instead), and the forwarding and trace
headers API Gateway adds. One pooled keep-alive client serves every socket.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import aiohttp
import attrs
from multidict import CIMultiDict
from yarl import URL

from apigw_ws.protocol import (
    CONNECT_ROUTE,
    DISCONNECT_ROUTE,
    GATEWAY_OWNED_HEADERS,
    GATEWAY_OWNED_PREFIXES,
    integration_headers,
    url_route_for,
)

from .config import GatewayConfig

# Headers a proxy never forwards; those only the gateway may set are in the protocol.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "upgrade",
        "host",
        "content-length",
        "content-type",
        "transfer-encoding",
        "keep-alive",
        "te",
        "trailer",
        "proxy-authorization",
        "proxy-connection",
        "expect",
    }
)


@attrs.frozen
class Client:
    """The facts about one client connection that go into every integration request."""

    connection_id: str
    source_ip: str
    forwarded_for: str
    port: int
    scheme: str


@attrs.frozen
class Outcome:
    """Django's answer to one integration request, or why there is none."""

    status: int | None
    body: bytes = b""
    headers: Mapping[str, str] = attrs.field(factory=dict)
    error: str = ""  # "timeout" or "unreachable" when status is None
    elapsed_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def describe(self) -> str:
        if self.status is None:
            what = "timed out" if self.error == "timeout" else f"failed ({self.error})"
            return f"Django {what} after {self.elapsed_ms:.0f} ms"
        return f"Django answered {self.status} in {self.elapsed_ms:.0f} ms"


def forwardable(headers: Mapping[str, str]) -> CIMultiDict[str]:
    """Return the client's handshake headers that API Gateway forwards on ``$connect``."""
    kept: CIMultiDict[str] = CIMultiDict()
    for name, value in headers.items():
        lower = name.lower()
        if lower in _HOP_BY_HOP or lower in GATEWAY_OWNED_HEADERS:
            continue
        if lower.startswith(GATEWAY_OWNED_PREFIXES):
            continue
        kept.add(name, value)
    return kept


class Integration:
    """Posts connect, message and disconnect events to ``config.target``."""

    def __init__(self, config: GatewayConfig) -> None:
        self.config = config
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(
            limit=self.config.max_forward_connections,
            force_close=not self.config.keep_alive,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=self.config.integration_timeout),
            auto_decompress=True,
            skip_auto_headers=("User-Agent",),
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def headers(self, route_key: str, client: Client) -> CIMultiDict[str]:
        """Return the headers API Gateway's integration sends on ``route_key``."""
        return CIMultiDict(
            integration_headers(
                route_key,
                connection_id=client.connection_id,
                api_id=self.config.api_id,
                source_ip=client.source_ip,
                forwarded_for=client.forwarded_for,
                port=client.port,
                scheme=client.scheme,
                secret=self.config.secret,
            )
        )

    def url(self, route_key: str, query: str = "") -> URL:
        url = self.config.target + url_route_for(route_key)
        # The query string is forwarded byte for byte, never re-encoded.
        return URL(url + (f"?{query}" if query else ""), encoded=True)

    async def post(
        self,
        route_key: str,
        client: Client,
        *,
        body: bytes = b"",
        query: str = "",
        handshake: Mapping[str, str] | None = None,
    ) -> Outcome:
        """POST one event to Django; never raises for a slow, failing or absent Django."""
        assert self._session is not None, "Integration.start() was not called"
        headers = forwardable(handshake) if handshake is not None else CIMultiDict()
        headers.update(self.headers(route_key, client))
        if body or route_key not in (CONNECT_ROUTE, DISCONNECT_ROUTE):
            headers["Content-Type"] = "application/json"
        started = time.monotonic()
        try:
            async with self._session.post(
                self.url(route_key, query), data=body, headers=headers, allow_redirects=False
            ) as response:
                data = await response.read()
                kept = {
                    name: response.headers[name]
                    for name in ("Sec-WebSocket-Protocol",)
                    if name in response.headers
                }
                return Outcome(response.status, data, kept, elapsed_ms=_ms(started))
        except TimeoutError:
            return Outcome(None, error="timeout", elapsed_ms=_ms(started))
        except (aiohttp.ClientError, OSError) as exc:
            return Outcome(None, error=type(exc).__name__, elapsed_ms=_ms(started))


def _ms(started: float) -> float:
    return (time.monotonic() - started) * 1000
