"""Hypothesis strategies for what API Gateway (or an attacker) can send to ``ws/<route>``.

Valid shapes (``connection_ids``, ``channel_names``, ``handler_names``, ``json_objects``,
``message_bodies``, ``bodies_for`` a handler, ``from_schema``, ``gateway_requests``) for
property tests of handlers, validators and permission hooks; hostile ones
(``bad_connection_ids``, ``bad_channel_names``, ``bad_handler_names``, ``hostile_bodies``,
``hostile_headers``, ``hostile_queries``, ``malformed_requests``) for proving that bad
input is refused; and ``users`` with given permissions. Only ``users`` needs Django (and
the database) when it draws.
"""

from __future__ import annotations

import base64
import json
import string
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode

import attrs
from hypothesis import strategies as st

from apigw_ws import protocol
from apigw_ws.handlers import _MARK, DEFAULT_HANDLER, DEFAULT_ROUTE, HANDLER_NAME_RE, Handler
from apigw_ws.schema import types_of
from apigw_ws.validation import (
    CONNECTION_ID_RE,
    MAX_CHANNEL_NAME_LENGTH,
    MAX_JSON_DEPTH,
)

from .client import ACTION_KEY, TEST_API_ID, gateway_headers

__all__ = [
    "GatewayRequest",
    "bad_channel_names",
    "bad_connection_ids",
    "bad_handler_names",
    "bodies_for",
    "channel_names",
    "connection_ids",
    "from_schema",
    "gateway_requests",
    "handler_names",
    "hostile_bodies",
    "hostile_connection_ids",
    "hostile_headers",
    "hostile_queries",
    "json_objects",
    "malformed_requests",
    "message_bodies",
    "users",
]

AWS_MAX_MESSAGE_BYTES = protocol.MAX_MESSAGE_BYTES

# No CR, LF or NUL: HTTP servers refuse them in a header line before Django sees it,
# and Django's test client cannot send CR or LF. Surrogates cannot be encoded at all.
_HEADER_CHARS = st.characters(exclude_characters="\r\n\x00", exclude_categories=("Cs",))
_HEADER_TEXT = st.text(_HEADER_CHARS, max_size=60)
# Headers the dispatch view reads, or that API Gateway sets.
_KNOWN_HEADERS = (
    protocol.CONNECTION_ID_HEADER,
    protocol.AWS_API_ID_HEADER,
    protocol.API_ID_HEADER,
    protocol.SECRET_HEADER,
    protocol.SOURCE_IP_HEADER,
    protocol.ROUTE_KEY_HEADER,
    protocol.EVENT_TYPE_HEADER,
    protocol.FORWARDED_FOR_HEADER,
    "Origin",
    "Cookie",
    "User-Agent",
    "Content-Type",
    "Sec-WebSocket-Key",
    "Sec-WebSocket-Protocol",
)
# Framing headers belong to the HTTP server, not to the request's content.
_FRAMING_HEADERS = frozenset({"host", "content-length", "transfer-encoding"})


def connection_ids() -> st.SearchStrategy[str]:
    """Yield valid connection ids shaped like API Gateway's: 16 characters, ``L0SM9cOFvHcCIhw=``."""
    return st.binary(min_size=11, max_size=11).map(lambda b: base64.urlsafe_b64encode(b).decode())


def bad_connection_ids() -> st.SearchStrategy[str]:
    """Yield strings that are not well-formed connection ids: empty, too long, odd characters.

    Each one can still be sent as a header value (see ``hostile_headers``).
    """
    return st.one_of(
        st.just(""),
        st.integers(129, 4096).map(lambda n: "A" * n),
        st.text(_HEADER_CHARS, min_size=1, max_size=140),
        st.sampled_from(["L0SM9cOFvHcCIhw=/", "../admin", "abc def", "a%00b", "é" * 16]),
    ).filter(lambda value: not CONNECTION_ID_RE.fullmatch(value))


def channel_names() -> st.SearchStrategy[str]:
    """Yield valid channel names: 1 to 128 letters, digits, ``_`` and ``-``."""
    alphabet = string.ascii_letters + string.digits + "_-"
    return st.text(alphabet, min_size=1, max_size=MAX_CHANNEL_NAME_LENGTH)


def handler_names() -> st.SearchStrategy[str]:
    """Yield valid handler names (a letter, then up to 63 of letters, digits, ``_.-``)."""
    return st.from_regex(HANDLER_NAME_RE, fullmatch=True)


def _storable_text(**sizes: Any) -> st.SearchStrategy[str]:
    # Lone surrogates and NUL are refused at parse: no database stores them.
    chars = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
    return st.text(chars, **sizes)


def _json_leaves() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**63), 2**63),
        st.floats(allow_nan=False, allow_infinity=False),
        _storable_text(),
    )


def json_objects(max_leaves: int = 20) -> st.SearchStrategy[dict[str, Any]]:
    """Yield dicts that JSON can carry: finite numbers, text keys, up to ``max_leaves`` leaves.

    Text has neither lone surrogates nor NUL, which ``parse_json_object`` refuses.
    """
    values = st.recursive(
        _json_leaves(),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(_storable_text(), inner, max_size=4)
        ),
        max_leaves=max_leaves,
    )
    return st.dictionaries(_storable_text(), values, max_size=6)


def message_bodies(
    handler_key: str = "handler", names: Sequence[str] = (), *, max_leaves: int = 20
) -> st.SearchStrategy[dict[str, Any]]:
    """Yield message bodies (dicts; ``json.dumps`` one to send it).

    Each either has no ``handler_key`` (so it goes to the route's ``default`` handler) or
    names one of ``names`` in it; without ``names``, never has the key.
    """
    plain = json_objects(max_leaves).map(
        lambda body: {k: v for k, v in body.items() if k != handler_key}
    )
    if not names:
        return plain
    return st.one_of(
        plain,
        st.tuples(plain, st.sampled_from(list(names))).map(
            lambda pair: {**pair[0], handler_key: pair[1]}
        ),
    )


def _nested(depth: int, opening: bytes, closing: bytes, leaf: bytes = b"1") -> bytes:
    return opening * depth + leaf + closing * depth


def hostile_bodies(max_bytes: int = AWS_MAX_MESSAGE_BYTES) -> st.SearchStrategy[bytes]:
    """Yield bodies that are not an acceptable message: every one must be refused.

    Random bytes (never starting with ``{``), text that is not JSON, JSON arrays and
    scalars, ``NaN``/``Infinity`` and overflowing numbers, nesting deeper than
    ``MAX_JSON_DEPTH``, invalid UTF-8 inside a string, escaped lone surrogates and NUL,
    other encodings (UTF-16), and objects bigger than ``max_bytes``.
    """
    not_an_object = st.one_of(
        st.lists(_json_leaves(), max_size=4),
        _json_leaves(),
    ).map(lambda value: json.dumps(value).encode())
    return st.one_of(
        st.binary(max_size=200).filter(lambda b: not b.strip().startswith(b"{")),
        # A JSON text never ends with a comma, whatever precedes it.
        st.text(max_size=80).map(lambda t: f"{{{t},".encode()),
        not_an_object,
        st.sampled_from(
            [
                b"",
                b"NaN",
                b'{"a": NaN}',
                b'{"handler": "default", "x": -Infinity}',
                b'{"a": Infinity}',
                b'{"a": 1e400}',
                b'{"a": ' + b"9" * 5000 + b"}",
                b'{"a": "\xff\xfe"}',
                b'{"handler": "\xc3"}',
                b'\xef\xbb\xbf{"a": 1}',
                '{"a": "é"}'.encode("utf-16"),
                '{"a": "é"}'.encode("utf-32"),
                '{"a": "é"}'.encode("latin-1"),
                b"{'a': 1}",
                b'{"a": 1,}',
                b'{"a" 1}',
                b'{"a": "\\ud800"}',
                b'{"\\udc00": 1}',
                b'{"a": ["\\u0000"]}',
            ]
        ),
        st.integers(MAX_JSON_DEPTH + 1, 5000).map(lambda d: _nested(d, b'{"a":', b"}")),
        st.integers(MAX_JSON_DEPTH, 5000).map(lambda d: b'{"a":' + _nested(d, b"[", b"]") + b"}"),
        st.integers(1, 4096).map(lambda extra: b'{"a": "' + b"x" * (max_bytes + extra) + b'"}'),
    )


def _header_names() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(_KNOWN_HEADERS),
        st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,30}", fullmatch=True),
    ).filter(lambda name: name.lower() not in _FRAMING_HEADERS)


def hostile_headers() -> st.SearchStrategy[dict[str, str]]:
    """Yield up to 6 headers (name -> value) to add to, or override in, a request.

    Names are the ones ``apigw_ws`` reads (connection id, api id, secret, Origin, ...) or
    random tokens; values are empty, unicode, or up to 40,000 characters long. Values come
    as a WSGI or ASGI server hands them to Django: UTF-8 bytes read as latin-1. Never
    ``Host``, ``Content-Length`` or ``Transfer-Encoding`` (the HTTP server's business),
    and never CR, LF or NUL in a value (servers refuse those). ``Content-Type`` is cut to
    10,000 characters: Django 6.1 refuses a longer one before any application code runs.
    """
    values = st.one_of(
        st.just(""),
        _HEADER_TEXT,
        st.integers(1000, 20000).map(lambda n: "é" * n),
        st.sampled_from(["null", "http://evil.net", "https://testserver@evil.net", "\t"]),
    ).map(lambda text: text.encode().decode("latin-1"))
    return st.dictionaries(_header_names(), values, max_size=6).map(_within_django_limits)


#: Django 6.1+ refuses a longer ``Content-Type`` while it builds the request, before any
#: middleware or view runs (``WSGIRequest.__init__`` raises ``BadRequest``, which
#: ``WSGIHandler`` does not catch): no application code can answer it.
_DJANGO_CONTENT_TYPE_LIMIT = 10_000


def _within_django_limits(headers: dict[str, str]) -> dict[str, str]:
    return {
        name: value[:_DJANGO_CONTENT_TYPE_LIMIT] if name.lower() == "content-type" else value
        for name, value in headers.items()
    }


def hostile_queries() -> st.SearchStrategy[str]:
    """Yield raw query strings (without ``?``): odd channels and tokens, bad escapes, floods.

    Includes ``channel=`` values that are too long or have odd characters, repeated and
    empty keys, broken percent-escapes, unicode, and more fields than Django parses
    (``DATA_UPLOAD_MAX_NUMBER_FIELDS``, 1000 by default).
    """
    param = st.tuples(
        st.sampled_from(["channel", "ws_token", "handler", ""]) | st.text(max_size=10),
        st.one_of(st.text(max_size=40), st.integers(129, 2000).map(lambda n: "c" * n)),
    ).map(lambda kv: f"{quote(kv[0])}={quote(kv[1])}")
    return st.one_of(
        st.lists(param, max_size=5).map("&".join),
        st.text(st.characters(exclude_characters="#", exclude_categories=("Cs",)), max_size=80),
        st.sampled_from(["%", "%zz", "channel=%ff%fe", "channel=a&channel=b/../c", "&&&=&"]),
        st.integers(1001, 3000).map(lambda n: "a=1&" * n),
    )


hostile_connection_ids = bad_connection_ids


def bad_channel_names() -> st.SearchStrategy[str]:
    """Yield strings that are not valid channel names: empty, too long, odd characters."""
    valid = set(string.ascii_letters + string.digits + "_-")
    return st.one_of(
        st.just(""),
        st.integers(MAX_CHANNEL_NAME_LENGTH + 1, 2000).map(lambda n: "c" * n),
        st.text(min_size=1, max_size=40).filter(lambda t: not set(t) <= valid),
        st.sampled_from(["../lobby", "lobby room", "lobby\x00", "é", "*", "$default"]),
    )


def bad_handler_names() -> st.SearchStrategy[str]:
    """Yield strings no handler can be registered under (``_private``, ``__init__``, ...)."""
    return st.one_of(
        st.sampled_from(["", "_private", "__init__", "__class__", "say ", "a/b", "1st", "é"]),
        st.text(max_size=80),
    ).filter(lambda name: not HANDLER_NAME_RE.fullmatch(name))


# -- bodies a handler accepts -------------------------------------------------------------


def from_schema(schema: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    """Yield values that match ``schema`` (the ``apigw_ws.schema`` subset)."""
    if "enum" in schema:
        return st.sampled_from(list(schema["enum"]))
    return st.one_of([_of_type(name, schema) for name in types_of(schema)])


def _of_type(name: str, schema: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    if name == "string":
        return _storable_text(min_size=schema.get("minLength", 0), max_size=schema.get("maxLength"))
    if name in ("integer", "number"):
        low, high = schema.get("minimum"), schema.get("maximum")
        if name == "integer":
            return st.integers(
                None if low is None else int(-(-low // 1)), None if high is None else int(high // 1)
            )
        return st.floats(low, high, allow_nan=False, allow_infinity=False)
    if name == "array":
        items = from_schema(schema["items"]) if "items" in schema else _json_leaves()
        return st.lists(
            items, min_size=schema.get("minItems", 0), max_size=schema.get("maxItems", 8)
        )
    if name == "object":
        return _objects(schema)
    return {"boolean": st.booleans(), "null": st.none()}[name]


def _objects(schema: Mapping[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    properties = schema.get("properties", {})
    required = set(schema.get("required", ()))
    return st.fixed_dictionaries(
        {key: from_schema(sub) for key, sub in properties.items() if key in required},
        optional={key: from_schema(sub) for key, sub in properties.items() if key not in required},
    )


def _handler_of(handler: Handler | Callable[..., Any]) -> Handler:
    if isinstance(handler, Handler):
        return handler
    options = getattr(handler, _MARK, None)
    if options is None:
        raise TypeError(f"{handler!r} is neither a Handler nor marked with @apigw_ws.handler")
    return Handler(func=handler, **options)


def bodies_for(
    handler: Handler | Callable[..., Any],
    *,
    handler_key: str = "handler",
    max_leaves: int = 10,
) -> st.SearchStrategy[dict[str, Any]]:
    """Yield message bodies that ``handler`` accepts, ready to send.

    ``handler`` is a registered ``Handler`` or a function marked with ``@apigw_ws.handler``.
    Bodies match its ``schema`` (other keys are random JSON) and have its
    ``required_keys``, name it in ``handler_key``, carry ``action`` when it is on a custom
    route, and fit its ``max_bytes``.
    """
    spec = _handler_of(handler)
    fixed: dict[str, Any] = {}
    if spec.name != DEFAULT_HANDLER:
        fixed[handler_key] = spec.name
    if spec.route != DEFAULT_ROUTE:
        fixed[ACTION_KEY] = spec.route
    declared = spec.schema or {"type": "object"}
    keys = set(declared.get("properties", {})) | set(fixed)
    extra = json_objects(max_leaves).map(lambda b: {k: v for k, v in b.items() if k not in keys})
    required = st.fixed_dictionaries({key: _json_leaves() for key in spec.required_keys})
    bodies = st.tuples(extra, required, _objects(declared)).map(
        lambda parts: {**parts[0], **parts[1], **parts[2], **fixed}
    )
    if spec.max_bytes is not None:
        limit = spec.max_bytes
        bodies = bodies.filter(lambda body: len(json.dumps(body).encode()) <= limit)
    return bodies


# -- whole requests ---------------------------------------------------------------------


@attrs.frozen
class GatewayRequest:
    """One request as API Gateway makes it: post it with ``ws_client.post_request(req)``.

    ``route`` is the URL route (``connect``, ``disconnect``, ``default`` or a custom key).
    """

    route: str
    connection_id: str
    headers: Mapping[str, str]
    query: str = ""
    body: bytes = b""


_CONNECT_ROUTES = (protocol.CONNECT, protocol.DISCONNECT)


def gateway_requests(
    route: str,
    *,
    api_id: str = TEST_API_ID,
    secret: str | None = None,
    connection_id: str | None = None,
    bodies: st.SearchStrategy[Any] | None = None,
) -> st.SearchStrategy[GatewayRequest]:
    """Yield well-formed requests for ``route`` with API Gateway's headers.

    ``connect`` gets a ``channel`` query parameter or none; message routes get
    ``bodies`` (default: ``message_bodies()``), JSON-encoded; ``disconnect`` no body.
    Connection ids are fresh unless ``connection_id`` is given (a message reaches a
    handler only on a connected session: connect it first).
    """
    ids = st.just(connection_id) if connection_id else connection_ids()
    if route == protocol.CONNECT:
        queries = st.one_of(st.just(""), channel_names().map(lambda c: urlencode({"channel": c})))
        payloads = st.just(b"")
    elif route == protocol.DISCONNECT:
        queries, payloads = st.just(""), st.just(b"")
    else:
        queries = st.just("")
        payloads = (message_bodies() if bodies is None else bodies).map(
            lambda b: b if isinstance(b, bytes) else json.dumps(b).encode()
        )

    def build(cid: str, query: str, body: bytes) -> GatewayRequest:
        headers = gateway_headers(route, cid, api_id=api_id, secret=secret)
        if body or route not in _CONNECT_ROUTES:
            headers["Content-Type"] = "application/json"
        return GatewayRequest(route, cid, headers, query, body)

    return st.builds(build, ids, queries, payloads)


def malformed_requests(
    route: str,
    *,
    api_id: str = TEST_API_ID,
    secret: str | None = None,
    connection_id: str | None = None,
) -> st.SearchStrategy[GatewayRequest]:
    """Yield requests for ``route`` with something wrong: the dispatch view must never 5xx.

    One of: a required header missing, a bad connection id, a wrong secret, hostile
    headers merged in, a hostile query string, or a hostile body. (Merged headers and
    queries are not always invalid, so assert "no 5xx, generic body", not "refused".)
    """
    base = gateway_requests(route, api_id=api_id, secret=secret, connection_id=connection_id)

    def without(names: tuple[str, ...]) -> Callable[[GatewayRequest], GatewayRequest]:
        return lambda r: attrs.evolve(
            r, headers={k: v for k, v in r.headers.items() if k not in names}
        )

    def with_headers(r: GatewayRequest, extra: dict[str, str]) -> GatewayRequest:
        return attrs.evolve(r, headers={**r.headers, **extra})

    # The api id is missing only when both headers that may carry it are.
    required = [
        (protocol.CONNECTION_ID_HEADER,),
        (protocol.AWS_API_ID_HEADER, protocol.API_ID_HEADER),
        (protocol.SECRET_HEADER,),
    ]
    return st.one_of(
        st.tuples(base, st.sampled_from(required)).map(lambda p: without(p[1])(p[0])),
        st.tuples(base, bad_connection_ids()).map(
            lambda p: with_headers(p[0], {protocol.CONNECTION_ID_HEADER: p[1]})
        ),
        st.tuples(base, st.text(_HEADER_CHARS, max_size=80)).map(
            lambda p: with_headers(p[0], {protocol.SECRET_HEADER: p[1]})
        ),
        st.tuples(base, hostile_headers()).map(lambda p: with_headers(p[0], p[1])),
        st.tuples(base, hostile_queries()).map(lambda p: attrs.evolve(p[0], query=p[1])),
        st.tuples(base, hostile_bodies()).map(lambda p: attrs.evolve(p[0], body=p[1])),
    )


# -- users --------------------------------------------------------------------------------


def users(
    permissions: Sequence[str] = (), *, is_active: bool | st.SearchStrategy[bool] = True
) -> st.SearchStrategy[Any]:
    """Yield saved users holding ``permissions`` (``"app_label.codename"``).

    Each draw writes a user row, so the test needs the database (``db`` fixture or
    ``django_db`` mark, with the ``function_scoped_fixture`` health check suppressed, or
    ``hypothesis.extra.django.TestCase``).
    """
    from .users import make_user

    active = is_active if isinstance(is_active, st.SearchStrategy) else st.just(is_active)
    return st.builds(lambda flag: make_user(*permissions, is_active=flag), active)
