"""A client that sends connect, message and disconnect requests exactly as API Gateway does.

The headers are those an ``HTTP_PROXY`` integration provisioned by ``apigw_ws`` delivers:
on ``$connect`` the browser's handshake headers, on every route the mapped
``connectionId``, the secret header, the source IP, route key and event type, and the
forwarding and trace headers API Gateway adds.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import time
from collections.abc import Mapping
from typing import Any

import attrs

BROWSER_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/130.0.0.0 Safari/537.36"
)


def new_connection_id() -> str:
    """Return a fresh id shaped like API Gateway's (16 characters, e.g. ``L0SM9cOFvHcCIhw=``)."""
    return base64.urlsafe_b64encode(os.urandom(11)).decode()


def _trace_id() -> str:
    return f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}"


def _meta(headers: Mapping[str, str]) -> dict[str, str]:
    """Turn header names into the ``HTTP_*`` keys Django's test client takes."""
    meta = {}
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        meta[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
    return meta


@attrs.define
class Connection:
    """One connection opened through a ``GatewayClient``."""

    client: GatewayClient
    connection_id: str
    response: Any = None

    def send(
        self, body: Any, *, route: str = "default", headers: Mapping[str, str] | None = None
    ) -> Any:
        return self.client.send(
            body, connection_id=self.connection_id, route=route, headers=headers
        )

    def disconnect(self, **kwargs: Any) -> Any:
        return self.client.disconnect(connection_id=self.connection_id, **kwargs)


@attrs.define
class GatewayClient:
    """Drive the dispatch view through Django's test ``client`` (cookies included).

    ``secret=None`` sends no secret header; ``prefix`` is where the app's URLs are mounted.
    """

    client: Any
    api_id: str
    secret: str | None = None
    prefix: str = "/ws/"
    host: str = "testserver"
    origin: str | None = "http://testserver"
    source_ip: str = "203.0.113.7"

    def headers(self, route: str, connection_id: str) -> dict[str, str]:
        """Return the headers API Gateway sends on ``route`` (a URL route, e.g. ``default``)."""
        event_type = {"connect": "CONNECT", "disconnect": "DISCONNECT"}.get(route, "MESSAGE")
        route_key = f"${route}" if route in ("connect", "disconnect", "default") else route
        headers = {
            "Host": self.host,
            "X-Amzn-Apigateway-Api-Id": self.api_id,
            "Connectionid": connection_id,
            "X-Forwarded-For": self.source_ip,
            "X-Forwarded-Port": "443",
            "X-Forwarded-Proto": "https",
            "X-Amzn-Trace-Id": _trace_id(),
            "X-Apigw-Ws-Source-Ip": self.source_ip,
            "X-Apigw-Ws-Route-Key": route_key,
            "X-Apigw-Ws-Event-Type": event_type,
        }
        if self.secret is not None:
            headers["X-Apigw-Ws-Secret"] = self.secret
        if route == "connect":
            headers |= {
                "User-Agent": BROWSER_UA,
                "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
                "Sec-WebSocket-Version": "13",
                "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits",
            }
            if self.origin:
                headers["Origin"] = self.origin
        else:
            headers["User-Agent"] = f"AmazonAPIGateway_{self.api_id}"
        return headers

    def post(
        self,
        route: str,
        connection_id: str,
        *,
        body: Any = b"",
        query: str = "",
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """POST ``body`` to ``ws/<route>`` with API Gateway's headers (``headers`` override)."""
        if not isinstance(body, bytes | str):
            body = json.dumps(body)
        merged = {**self.headers(route, connection_id), **(headers or {})}
        merged = {k: v for k, v in merged.items() if v is not None}
        url = f"{self.prefix}{route}" + (f"?{query}" if query else "")
        return self.client.generic(
            "POST", url, body, content_type="application/json", **_meta(merged)
        )

    def connect(
        self,
        *,
        channel: str | None = None,
        query: Mapping[str, str] | str | None = None,
        connection_id: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Connection:
        """Open a connection; ``result.response`` is Django's answer to ``$connect``."""
        from urllib.parse import urlencode

        params = dict(query) if isinstance(query, Mapping) else {}
        if channel is not None:
            params["channel"] = channel
        qs = query if isinstance(query, str) else urlencode(params)
        cid = connection_id or new_connection_id()
        response = self.post("connect", cid, query=qs, headers=headers)
        return Connection(self, cid, response)

    def send(
        self,
        body: Any,
        *,
        connection_id: str,
        route: str = "default",
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """Send one message frame as API Gateway forwards it."""
        return self.post(route, connection_id, body=body, headers=headers)

    def disconnect(self, *, connection_id: str, headers: Mapping[str, str] | None = None) -> Any:
        return self.post("disconnect", connection_id, headers=headers)
