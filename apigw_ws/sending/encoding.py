"""Encoding an outbound message once, and checking its size before any network call."""

from __future__ import annotations

import functools
import json
from typing import Any

from ..errors import MessageNotSerializable, MessageTooLarge
from ..protocol import MAX_MESSAGE_BYTES

__all__ = ["DEFAULT_MAX_BYTES", "MessageNotSerializable", "MessageTooLarge", "encode_message"]

DEFAULT_MAX_BYTES = MAX_MESSAGE_BYTES


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
