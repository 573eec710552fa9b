"""A client that sends connect, message and disconnect requests exactly as API Gateway does.

The headers are those an ``HTTP_PROXY`` integration provisioned by ``apigw_ws`` delivers
(and that ``ws_devgateway`` sends, built by the same ``protocol.integration_headers``): on
``$connect`` the browser's handshake headers, on every route the mapped ``connectionId``,
api id, source IP, route key and event type, the secret header, and the forwarding and
trace headers API Gateway adds.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, NoReturn
from urllib.parse import urlencode

import attrs

from apigw_ws.ids import new_connection_id
from apigw_ws.protocol import (
    ACTION_KEY,
    CONNECT_ROUTE,
    DEFAULT,
    DEFAULT_ROUTE,
    DEFAULT_ROUTE_SELECTION_EXPRESSION,
    USER_AGENT_HEADER,
    RouteSelector,
    integration_headers,
    route_key_for,
    url_route_for,
)

BROWSER_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/130.0.0.0 Safari/537.36"
)
#: The api id of the ``ws_gateway`` fixture's row.
TEST_API_ID = "testapi123"


def usage_error(message: str) -> NoReturn:
    """Fail the running test with ``message`` alone: a fixture was used the wrong way."""
    try:
        import pytest
    except ImportError:  # unittest users get a plain assertion
        raise AssertionError(message) from None
    pytest.fail(message, pytrace=False)


def gateway_headers(
    route: str,
    connection_id: str,
    *,
    api_id: str,
    secret: str | None = None,
    host: str = "testserver",
    origin: str | None = "http://testserver",
    source_ip: str = "203.0.113.7",
) -> dict[str, str]:
    """Return the headers API Gateway sends on URL route ``route`` (``connect``, ``default``...)."""
    route_key = route_key_for(route)
    headers = {
        "Host": host,
        **integration_headers(
            route_key,
            connection_id=connection_id,
            api_id=api_id,
            source_ip=source_ip,
            forwarded_for=source_ip,
            port=443,
            scheme="https",
            secret=secret,
        ),
    }
    if route_key == CONNECT_ROUTE:
        headers |= {
            USER_AGENT_HEADER: BROWSER_UA,
            "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits",
        }
        if origin:
            headers["Origin"] = origin
    return headers


def _meta(headers: Mapping[str, str]) -> dict[str, str]:
    """Turn header names into the ``HTTP_*`` keys Django's test client takes."""
    meta = {}
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        meta[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
    return meta


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def _apigw_ws_log() -> Iterator[list[logging.LogRecord]]:
    """Collect what the ``apigw_ws`` loggers say while the block runs."""
    handler = _Records()
    logger = logging.getLogger("apigw_ws")
    logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)


def _require_database() -> None:
    """Fail with a hint when the test has no database access (pytest-django blocks it)."""
    from django.db import connection

    try:
        connection.ensure_connection()
    except RuntimeError as exc:
        if "Database access not allowed" not in str(exc):
            raise
        usage_error(
            "apigw_ws's gateway client needs the database (gateways and sessions are rows):"
            " mark the test with @pytest.mark.django_db, or request the `db` or `ws_gateway`"
            " fixture."
        )


class Response:
    """Django's response to one gateway request, with assertions and the server's log.

    Everything Django's test response has (``status_code``, ``json()``, ``headers``,
    ``response["Retry-After"]``...) works as usual; ``log`` holds what the ``apigw_ws``
    loggers said while the request ran, which is where refusals explain themselves.
    """

    def __init__(self, http: Any, log: list[logging.LogRecord]) -> None:
        self.http = http
        self.log = [record.getMessage() for record in log]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.http, name)

    def __getitem__(self, header: str) -> str:
        return self.http[header]

    def __contains__(self, header: str) -> bool:
        return header in self.http

    def __repr__(self) -> str:
        return f"<apigw_ws Response {self.status_code} {self._body()}>"

    @property
    def data(self) -> Any:
        """Return the decoded JSON body, or ``None`` for an empty one."""
        return json.loads(self.http.content) if self.http.content else None

    def _body(self) -> str:
        text = self.http.content.decode(errors="replace")
        return text if len(text) <= 300 else text[:300] + "..."

    def _fail(self, expected: str) -> NoReturn:
        lines = [f"expected {expected}, got {self.status_code} {self._body()}"]
        if self.log:
            lines.append("apigw_ws log: " + " | ".join(self.log))
        raise AssertionError("\n".join(lines))

    def assert_status(self, status: int) -> Response:
        """Assert the status is ``status``; return the response."""
        if self.status_code != status:
            self._fail(f"status {status}")
        return self

    def assert_ok(self, data: Any = ...) -> Response:
        """Assert a 2xx answer and, if given, that the JSON body equals ``data``."""
        if not 200 <= self.status_code < 300:
            self._fail("a 2xx answer")
        if data is not ... and self.data != data:
            self._fail(f"the body {json.dumps(data, default=str)}")
        return self

    def assert_refused(self, status: int | None = None, error: str | None = None) -> Response:
        """Assert a 4xx refusal with a generic ``{"error": ...}`` body.

        ``status`` and ``error`` (the public text, e.g. ``"Unknown handler"``) are checked
        when given.
        """
        if not 400 <= self.status_code < 500 or (status and self.status_code != status):
            self._fail(f"a refusal ({status or '4xx'})")
        body = self.data
        if not isinstance(body, dict) or set(body) != {"error"}:
            self._fail('a body of only {"error": ...}')
        if error is not None and body["error"] != error:
            self._fail(f"the error {error!r}")
        return self


@attrs.define
class Connection:
    """One connection opened through a ``GatewayClient``; ``response`` answered its connect."""

    client: GatewayClient
    connection_id: str
    response: Any = None
    http: Any = attrs.field(default=None, repr=False)  # the Django client that connected

    @property
    def accepted(self) -> bool:
        """Return whether ``$connect`` was answered 2xx (API Gateway then opens the socket)."""
        return self.response is not None and 200 <= self.response.status_code < 300

    @property
    def session(self) -> Any:
        """Return this connection's ``WebSocketSession`` row, read now, or ``None``."""
        from apigw_ws.contrib.django.models import WebSocketSession

        return WebSocketSession.objects.filter(connection_id=self.connection_id).first()

    def send(
        self,
        handler: Any,
        body: Mapping[str, Any] | None = None,
        *,
        route: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """Send a message; see ``GatewayClient.send``."""
        return self.client.send(
            handler, body, connection_id=self.connection_id, route=route, headers=headers
        )

    def disconnect(self, **kwargs: Any) -> Response:
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
        return gateway_headers(
            route,
            connection_id,
            api_id=self.api_id,
            secret=self.secret,
            host=self.host,
            origin=self.origin,
            source_ip=self.source_ip,
        )

    def post(
        self,
        route: str,
        connection_id: str,
        *,
        body: Any = b"",
        query: str = "",
        headers: Mapping[str, str] | None = None,
        http: Any = None,
    ) -> Response:
        """POST ``body`` to ``ws/<route>`` with API Gateway's headers (``headers`` override).

        A header set to ``None`` in ``headers`` is not sent. ``http`` is the Django test
        client to send with (default: ``client``).
        """
        _require_database()
        if not isinstance(body, bytes | str):
            body = json.dumps(body)
        merged = {**self.headers(route, connection_id), **(headers or {})}
        merged = {k: v for k, v in merged.items() if v is not None}
        url = f"{self.prefix}{route}" + (f"?{query}" if query else "")
        with _apigw_ws_log() as log:
            http_response = (http or self.client).generic(
                "POST", url, body, content_type="application/json", **_meta(merged)
            )
        return Response(http_response, log)

    def post_request(self, request: Any) -> Response:
        """POST a whole ``GatewayRequest`` (see the strategies) with exactly its headers."""
        _require_database()
        url = f"{self.prefix}{request.route}" + (f"?{request.query}" if request.query else "")
        with _apigw_ws_log() as log:
            http_response = self.client.generic(
                "POST", url, request.body, content_type="application/json", **_meta(request.headers)
            )
        return Response(http_response, log)

    def connect(
        self,
        *,
        user: Any = None,
        channel: str | None = None,
        token: str | bool | None = None,
        query: Mapping[str, str] | str | None = None,
        connection_id: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Connection:
        """Open a connection; ``result.response`` is Django's answer to ``$connect``.

        ``user`` connects as that user: a fresh browser (its own Django test client) logs
        in and connects with its session cookie, leaving ``client`` as it was.
        ``token=True`` first fetches a connect token from ``ws/token`` as that browser;
        a string is sent as ``?ws_token=`` as it is.
        """
        http = self.client
        if user is not None and getattr(user, "is_authenticated", False):
            http = type(self.client)()
            http.force_login(user)
        params = dict(query) if isinstance(query, Mapping) else {}
        if channel is not None:
            params["channel"] = channel
        if token is True:
            token = self.fetch_token(http)
        if token:
            params["ws_token"] = token
        qs = query if isinstance(query, str) else urlencode(params)
        cid = connection_id or new_connection_id()
        response = self.post("connect", cid, query=qs, headers=headers, http=http)
        return Connection(self, cid, response, http)

    def fetch_token(self, http: Any = None) -> str:
        """POST to ``ws/token`` as the logged-in browser ``http``; return the token."""
        response = (http or self.client).post(f"{self.prefix}token")
        if response.status_code != 200:
            usage_error(
                f"ws/token answered {response.status_code} {response.content[:200]!r}: connect"
                " with user=<a saved, active user>, and load a token plugin"
                " (APIGW_WS['PLUGINS']) whose backend can issue()."
            )
        return response.json()["token"]

    def send(
        self,
        handler: Any,
        body: Mapping[str, Any] | None = None,
        *,
        connection_id: str,
        route: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """Send one message frame as API Gateway forwards it.

        ``send("echo", {"text": "hi"})`` names a registered handler: the body gets the
        handler key (and ``action`` for a handler on a custom route), and a name that no
        plugin registered fails the test with a hint. ``send({...})`` or ``send(b"...")``
        sends that body as it is, which is how to test what clients get wrong.

        ``route`` is the URL route (``"default"``, ``"notes"``; ``"$default"`` works too),
        posted to as it is; without it the route is chosen as API Gateway does, from the
        body's ``action`` key when a handler is registered on that route.
        """
        if isinstance(handler, str) and (body is not None or _is_name(handler)):
            route, payload = self._named(handler, body or {}, route)
        else:
            if body is not None:
                usage_error("send(body) takes one body; send(handler_name, body) takes two")
            payload = handler
        if route == DEFAULT_ROUTE:
            route = DEFAULT
        url_route = route or _selected_route(payload)
        return self.post(url_route, connection_id, body=payload, headers=headers)

    def disconnect(
        self, *, connection_id: str, headers: Mapping[str, str] | None = None
    ) -> Response:
        return self.post("disconnect", connection_id, headers=headers)

    def _named(
        self, name: str, body: Mapping[str, Any], route: str | None
    ) -> tuple[str, dict[str, Any]]:
        from apigw_ws.contrib.django.conf import ws_settings
        from apigw_ws.contrib.django.runtime import get_plugins

        registry = get_plugins().registry
        route_key = route_key_for(url_route_for(route)) if route else None
        if route_key is None:
            found = [h for h in registry if h.name == name]
            route_key = found[0].route if len(found) == 1 else DEFAULT_ROUTE
        if registry.get(route_key, name) is None:
            known = ", ".join(f"{h.name} ({h.route})" for h in registry) or "none"
            usage_error(
                f"no handler {name!r} is registered on route {route_key!r}; registered: {known}."
                " Load its plugin for this test with ws_plugins.add(...), list it in"
                " APIGW_WS['PLUGINS'], or install it (entry points load when"
                " APIGW_WS['LOAD_ENTRY_POINTS'] is true). To test how an unknown name is"
                f" refused, send the raw body: send({{{ws_settings.HANDLER_KEY!r}: {name!r}}})."
            )
        payload = {**body, ws_settings.HANDLER_KEY: name}
        if route_key != DEFAULT_ROUTE:
            payload[ACTION_KEY] = route_key
        return route_key, payload


def _is_name(value: str) -> bool:
    from apigw_ws.handlers import HANDLER_NAME_RE

    return bool(HANDLER_NAME_RE.fullmatch(value)) and not value.lstrip().startswith("{")


def _selected_route(body: Any) -> str:
    """Return the URL route API Gateway's ``$request.body.action`` selection picks."""
    from apigw_ws.contrib.django.runtime import get_plugins

    if isinstance(body, str):
        body = body.encode()
    elif not isinstance(body, bytes):
        body = json.dumps(body).encode()
    routes = {DEFAULT_ROUTE, *get_plugins().registry.routes()}
    selector = RouteSelector.parse(DEFAULT_ROUTE_SELECTION_EXPRESSION, routes)
    return url_route_for(selector.select(body) or DEFAULT_ROUTE)
