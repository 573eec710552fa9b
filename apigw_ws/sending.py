"""Posting to connections through the API Gateway Management API.

One boto3 ``apigatewaymanagementapi`` client per (endpoint, region, profile), made once
and reused: clients are thread-safe and creating one costs milliseconds.
"""

from __future__ import annotations

import functools
import json
from typing import Any

DEFAULT_MAX_BYTES = 131072


class MessageTooLarge(ValueError):
    """An outbound message exceeds the Management API's limit."""


def encode_message(data: Any, *, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Return ``data`` as compact JSON bytes, refusing it if longer than ``max_bytes``.

    Strings and bytes are sent as they are. Dates, UUIDs and decimals are encoded with
    Django's encoder when Django is installed.
    """
    if isinstance(data, bytes):
        payload = data
    elif isinstance(data, str):
        payload = data.encode()
    else:
        payload = _dumps(data)
    if len(payload) > max_bytes:
        raise MessageTooLarge(f"message is {len(payload)} bytes; the limit is {max_bytes}")
    return payload


def _dumps(data: Any) -> bytes:
    text = json.dumps(data, cls=_encoder(), separators=(",", ":"), ensure_ascii=False)
    try:
        return text.encode()  # UTF-8 is smaller than \u escapes for non-ASCII text
    except UnicodeEncodeError:  # lone surrogates: only escaping keeps the JSON valid
        return json.dumps(data, cls=_encoder(), separators=(",", ":")).encode()


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


@functools.lru_cache(maxsize=64)
def management_client(endpoint: str, region: str | None, profile: str | None = None) -> Any:
    """Return the shared Management API client of ``endpoint``."""
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(profile_name=profile, region_name=region)
    config = Config(
        connect_timeout=5, read_timeout=10, retries={"max_attempts": 2, "mode": "standard"}
    )
    return session.client("apigatewaymanagementapi", endpoint_url=endpoint, config=config)


def post_to_connection(client: Any, connection_id: str, payload: bytes) -> None:
    """Post already encoded ``payload`` to one connection."""
    client.post_to_connection(ConnectionId=connection_id, Data=payload)
