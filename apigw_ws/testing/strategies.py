"""Hypothesis strategies for what API Gateway (or an attacker) can send to ``ws/<route>``.

Valid shapes (``connection_ids``, ``channel_names``, ``handler_names``, ``json_objects``,
``message_bodies``) for property tests of handlers, validators and permission hooks, and
hostile ones (``bad_connection_ids``, ``hostile_bodies``, ``hostile_headers``,
``hostile_queries``) for proving that bad input is refused. Imports no Django.
"""

from __future__ import annotations

import base64
import json
import string
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

from apigw_ws.handlers import HANDLER_NAME_RE
from apigw_ws.validation import (
    CONNECTION_ID_RE,
    MAX_CHANNEL_NAME_LENGTH,
    MAX_JSON_DEPTH,
)

__all__ = [
    "bad_connection_ids",
    "channel_names",
    "connection_ids",
    "handler_names",
    "hostile_bodies",
    "hostile_headers",
    "hostile_queries",
    "json_objects",
    "message_bodies",
]

AWS_MAX_MESSAGE_BYTES = 131072

# No CR, LF or NUL: HTTP servers refuse them in a header line before Django sees it,
# and Django's test client cannot send CR or LF. Surrogates cannot be encoded at all.
_HEADER_CHARS = st.characters(exclude_characters="\r\n\x00", exclude_categories=("Cs",))
_HEADER_TEXT = st.text(_HEADER_CHARS, max_size=60)
# Headers the dispatch view reads, or that API Gateway sets.
_KNOWN_HEADERS = (
    "Connectionid",
    "X-Amzn-Apigateway-Api-Id",
    "X-Apigw-Ws-Secret",
    "X-Apigw-Ws-Source-Ip",
    "X-Apigw-Ws-Route-Key",
    "X-Apigw-Ws-Event-Type",
    "X-Forwarded-For",
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


def _json_leaves() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**63), 2**63),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(),
    )


def json_objects(max_leaves: int = 20) -> st.SearchStrategy[dict[str, Any]]:
    """Yield dicts that JSON can carry: finite numbers, text keys, up to ``max_leaves`` leaves."""
    values = st.recursive(
        _json_leaves(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=max_leaves,
    )
    return st.dictionaries(st.text(), values, max_size=6)


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
    ``MAX_JSON_DEPTH``, invalid UTF-8 inside a string, other encodings (UTF-16), and
    objects bigger than ``max_bytes``.
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
    and never CR, LF or NUL in a value (servers refuse those).
    """
    values = st.one_of(
        st.just(""),
        _HEADER_TEXT,
        st.integers(1000, 20000).map(lambda n: "é" * n),
        st.sampled_from(["null", "http://evil.net", "https://testserver@evil.net", "\t"]),
    ).map(lambda text: text.encode().decode("latin-1"))
    return st.dictionaries(_header_names(), values, max_size=6)


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
