"""Checks on untrusted input: ids, channel names, origins, secrets and message bodies.

Each function takes plain values and either returns a result or raises a
``RequestRefused`` subclass whose ``detail`` says exactly what was wrong (for the log).
"""

from __future__ import annotations

import hmac
import json
import math
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from .errors import BadRequest, Forbidden, PayloadTooLarge

#: API Gateway connection ids are short base64-like strings such as ``L0SM9cOFvHcCIhw=``.
CONNECTION_ID_RE = re.compile(r"[A-Za-z0-9_=+-]{1,128}")
#: API ids are ten lower-case alphanumerics on AWS; allow a little more for emulators.
API_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
CHANNEL_NAME_RE = re.compile(r"[A-Za-z0-9_-]+")
MAX_CHANNEL_NAME_LENGTH = 128  # the column's size: validation never admits more
#: Deepest nesting of arrays and objects a message may have. Python's parser admits
#: about 900 levels, deeper than the stack left for encoding a reply to the message.
MAX_JSON_DEPTH = 128
_DEFAULT_PORTS = {"http": 80, "https": 443}


def check_connection_id(value: str) -> str:
    """Return ``value`` if it looks like an API Gateway connection id, else raise."""
    if not CONNECTION_ID_RE.fullmatch(value):
        raise BadRequest(f"malformed connection id {value[:140]!r}")
    return value


def check_api_id(value: str) -> str:
    """Return ``value`` if it is a well-formed API id, else raise."""
    if not API_ID_RE.fullmatch(value):
        raise BadRequest(f"malformed api id {value[:80]!r}")
    return value


def channel_name_problem(name: str) -> str:
    """Return why ``name`` is not a valid channel name, or ``""`` if it is."""
    if len(name) > MAX_CHANNEL_NAME_LENGTH:
        return f"longer than {MAX_CHANNEL_NAME_LENGTH} characters"
    if not CHANNEL_NAME_RE.fullmatch(name):
        return "only letters, digits, '_' and '-' are allowed"
    return ""


def check_channel_name(name: str) -> str:
    """Return ``name`` if it is a valid channel name, else raise ``BadRequest``."""
    problem = channel_name_problem(name)
    if problem:
        detail = f"invalid channel name {name[:140]!r}: {problem}"
        raise BadRequest(detail, public="Invalid channel")
    return name


def secrets_problem(value: Any) -> str:
    """Return why a configured ``GATEWAY_SECRET`` cannot authenticate requests, or ``""``.

    ``None`` means no secret is configured, which is not a problem here. Anything else must
    be a non-empty string or a non-empty list of non-empty strings: an empty entry would
    match a request that carries no secret header at all. The answer never quotes a secret.
    """
    if value is None:
        return ""
    entries = [value] if isinstance(value, str) else value
    if not isinstance(entries, list | tuple):
        return f"is a {type(value).__name__}, not a string or a list of strings"
    if not entries:
        return "is an empty list"
    for index, entry in enumerate(entries):
        if not isinstance(entry, str):
            return f"entry {index} is a {type(entry).__name__}, not a string"
        if not entry:
            return f"entry {index} is empty" if entries is value else "is an empty string"
    return ""


def check_secret(given: str, secrets: Iterable[str]) -> None:
    """Raise ``Forbidden`` unless ``given`` equals one of ``secrets`` (constant time).

    Every configured secret is compared, so the time taken does not reveal which one
    (or how much of one) matched.
    """
    given_bytes = given.encode("utf-8", "surrogateescape")
    secrets = list(secrets)
    problem = secrets_problem(secrets)
    if problem:  # fail closed: an empty secret would match a request without one
        raise Forbidden(f"GATEWAY_SECRET {problem}: every request is refused until it is fixed")
    matched = False
    for secret in secrets:
        matched |= hmac.compare_digest(given_bytes, secret.encode("utf-8"))
    if not matched:
        raise Forbidden("missing or wrong gateway secret header" if given else "no gateway secret")


def _origin_parts(url: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc:
        return None
    return parts.scheme, parts.hostname, _DEFAULT_PORTS[parts.scheme] if port is None else port


_ALLOWED_ORIGIN_RE = re.compile(r"(https?)://(\*\.)?([A-Za-z0-9.-]+)(?::([0-9]{1,5}))?/?")


def parse_allowed_origin(entry: str) -> tuple[str, bool, str, int] | None:
    """Parse an ``ALLOWED_ORIGINS`` entry into (scheme, wildcard, host, port), or ``None``."""
    match = _ALLOWED_ORIGIN_RE.fullmatch(entry)
    if match is None:
        return None
    scheme, star, host, port = match.groups()
    return scheme, bool(star), host.lower(), int(port) if port else _DEFAULT_PORTS[scheme]


def origin_allowed(origin: str, *, host: str, allowed: Iterable[str] | None) -> bool:
    """Return whether a browser ``Origin`` may open a connection.

    Both sides are parsed as URLs and compared by scheme, host name and port; a
    substring test would let ``https://example.com.evil.net`` in. With ``allowed``
    (``ALLOWED_ORIGINS``: ``https://example.com``, ``https://*.example.com`` or ``*``)
    the origin must match one entry; without it, the origin's host name must be the
    host name of the request's ``Host`` header.
    """
    parts = _origin_parts(origin)
    if parts is None:
        return False
    scheme, hostname, port = parts
    if allowed is None:
        request = _origin_parts(f"{scheme}://{host}")
        return request is not None and request[1] == hostname
    for entry in allowed:
        if entry == "*":
            return True
        wanted = parse_allowed_origin(entry)
        if wanted is None or (wanted[0], wanted[3]) != (scheme, port):
            continue
        _, wildcard, wanted_host, _ = wanted
        if hostname.endswith("." + wanted_host) if wildcard else hostname == wanted_host:
            return True
    return False


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):  # 1e400: valid JSON syntax, but Infinity once parsed
        raise ValueError(f"{text[:40]} overflows a float")
    return value


def nesting_exceeds(value: Any, limit: int) -> bool:
    """Return whether ``value`` nests arrays and objects deeper than ``limit`` levels."""
    level, depth = [value], 1
    while level:
        if depth > limit:
            return True
        level = [
            child
            for item in level
            for child in (item.values() if isinstance(item, dict) else item)
            if isinstance(child, dict | list)
        ]
        depth += 1
    return False


#: A JSON escape that may decode to a lone surrogate (``\ud800``) or NUL (``\u0000``).
_SUSPECT_ESCAPE_RE = re.compile(rb"\\u(?:[dD][89a-fA-F]|0000)")
#: What no database text column stores: NUL (PostgreSQL) and lone surrogates (not UTF-8).
_UNSTORABLE_RE = re.compile("[\x00\ud800-\udfff]")


def _unstorable_string(value: Any) -> bool:
    level = [value]
    while level:
        children = []
        for item in level:
            if isinstance(item, str):
                if _UNSTORABLE_RE.search(item):
                    return True
            elif isinstance(item, dict):
                children += item.keys()
                children += item.values()
            elif isinstance(item, list):
                children += item
        level = children
    return False


def storable_text(value: str, max_length: int) -> str:
    """Return ``value`` without the characters a database refuses, cut to ``max_length``.

    For request facts such as ``User-Agent`` that are stored, never trusted: NUL (which
    PostgreSQL refuses in text), other control characters and lone surrogates go.
    """
    if value.isprintable():
        return value[:max_length]
    kept = "".join(ch for ch in value if ch.isprintable() and not "\ud800" <= ch <= "\udfff")
    return kept[:max_length]


#: One decoder for every message (``json.loads`` with options builds a new one per call).
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float)


def parse_json_object(body: bytes, *, max_bytes: int) -> dict[str, Any]:
    """Return the JSON object in ``body``, or raise for anything else.

    Refused: more than ``max_bytes``, anything but UTF-8 (``json.loads`` alone would
    accept UTF-16 and UTF-32), invalid JSON, ``NaN``/``Infinity`` and numbers too big for a
    float, nesting deeper than ``MAX_JSON_DEPTH``, a string with an escaped lone surrogate
    (``"\ud800"``: not Unicode, no database or encoder takes it) or NUL (``"\u0000"``:
    PostgreSQL refuses it), and any JSON value that is not an object.
    """
    if len(body) > max_bytes:
        raise PayloadTooLarge(f"body of {len(body)} bytes exceeds {max_bytes}")
    try:
        value = _DECODER.decode(body.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeError are ValueErrors
        raise BadRequest(f"body is not JSON: {type(exc).__name__}") from None
    if not isinstance(value, dict):
        raise BadRequest(f"body is JSON {type(value).__name__}, not an object")
    if nesting_exceeds(value, MAX_JSON_DEPTH):
        raise BadRequest(f"body nests deeper than {MAX_JSON_DEPTH} levels")
    # Only an escape can produce these (raw UTF-8 has no surrogates, raw NUL is not JSON):
    # bodies without one skip the walk.
    if _SUSPECT_ESCAPE_RE.search(body) and _unstorable_string(value):
        raise BadRequest("body has a string with a lone surrogate or NUL")
    return value
