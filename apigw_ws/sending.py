"""Encoding outbound messages, and the Management API clients that carry them.

One boto3 ``apigatewaymanagementapi`` client per (endpoint, region, profile, pool size),
made once and reused: clients are thread-safe, but making one costs tens of milliseconds
and megabytes, so it is made by one thread while the others wait for it. Likewise one
SigV4 signer (region and resolved credentials) per endpoint for the aiohttp transport.
``apigw_ws.sender`` decides what to send to whom; this module only encodes and connects.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from .errors import ApigwWsError

DEFAULT_MAX_BYTES = 131072


#: botocore's defaults (60 s each, with retries) would hold a request thread for minutes.
CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 10.0


class MessageTooLarge(ApigwWsError, ValueError):
    """An outbound message exceeds the Management API's limit."""


class MessageNotSerializable(ApigwWsError, TypeError):
    """An outbound message is not JSON (an object JSON cannot hold, NaN, a cycle)."""


def encode_message(data: Any, *, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Return ``data`` as compact JSON bytes, refusing it if longer than ``max_bytes``.

    Strings and bytes are sent as they are. Dates, UUIDs and decimals are encoded with
    Django's encoder when Django is installed. Raises ``MessageNotSerializable`` or
    ``MessageTooLarge`` before anything is sent.
    """
    if isinstance(data, bytes):
        payload = data
    elif isinstance(data, str):
        try:
            payload = data.encode()
        except UnicodeEncodeError as exc:
            raise MessageNotSerializable(f"message text is not valid UTF-8: {exc}") from None
    else:
        try:
            payload = _dumps(data)
        except (TypeError, ValueError, RecursionError) as exc:
            raise MessageNotSerializable(f"message is not JSON-serialisable: {exc}") from None
    if len(payload) > max_bytes:
        raise MessageTooLarge(f"message is {len(payload)} bytes; the limit is {max_bytes}")
    return payload


def _dumps(data: Any) -> bytes:
    # allow_nan=False: NaN and Infinity are not JSON, and browsers' JSON.parse refuses them.
    options: dict[str, Any] = {"cls": _encoder(), "separators": (",", ":"), "allow_nan": False}
    text = json.dumps(data, ensure_ascii=False, **options)
    try:
        return text.encode()  # UTF-8 is smaller than \u escapes for non-ASCII text
    except UnicodeEncodeError:  # lone surrogates: only escaping keeps the JSON valid
        return json.dumps(data, **options).encode()


@functools.cache
def _encoder() -> type[json.JSONEncoder]:
    try:
        from django.core.serializers.json import DjangoJSONEncoder
    except ImportError:  # the core works without Django
        return json.JSONEncoder
    return DjangoJSONEncoder


def endpoint_url(*, api_id: str, stage: str, region: str) -> str:
    """Return the Management API endpoint of a deployed stage on AWS."""
    return f"https://{api_id}.execute-api.{region}.amazonaws.com/{stage}"


_Make = TypeVar("_Make", bound=Callable[..., Any])


def _made_once(maxsize: int) -> Callable[[_Make], _Make]:
    """Memoise like ``functools.lru_cache``, but a missing value is made by one thread.

    ``lru_cache`` lets every thread that misses make its own value at the same time: the
    first parallel send of a process used to build one boto3 client per worker thread.
    One lock per cache: a hit holds it for a dictionary lookup, a miss while it is made.
    """

    def decorate(make: _Make) -> _Make:
        cached = functools.lru_cache(maxsize=maxsize)(make)
        lock = threading.Lock()

        @functools.wraps(make)
        def get(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return cached(*args, **kwargs)

        get.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
        get.cache_info = cached.cache_info  # type: ignore[attr-defined]
        return get  # type: ignore[return-value]

    return decorate


@_made_once(maxsize=64)
def management_client(
    endpoint: str,
    region: str | None,
    profile: str | None = None,
    *,
    pool: int = 10,
    connect_timeout: float = CONNECT_TIMEOUT,
    read_timeout: float = READ_TIMEOUT,
) -> Any:
    """Return the shared Management API client of ``endpoint`` with ``pool`` connections."""
    import boto3
    from botocore.config import Config

    # A session of its own: boto3 sessions are not thread-safe while they build clients.
    session = boto3.session.Session(profile_name=profile, region_name=region)
    config = Config(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        max_pool_connections=pool,
        # apigw_ws.sender retries itself: it counts retries, and never re-posts a message
        # whose request may already have reached the gateway.
        retries={"total_max_attempts": 1},
    )
    return session.client("apigatewaymanagementapi", endpoint_url=endpoint, config=config)


def post_to_connection(client: Any, connection_id: str, payload: bytes) -> None:
    """Post already encoded ``payload`` to one connection."""
    client.post_to_connection(ConnectionId=connection_id, Data=payload)
