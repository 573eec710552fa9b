"""Deprecated: import from ``apigw_ws`` or ``apigw_ws.sending`` (removed in the next release)."""

import warnings

from .sending.sender import DEFAULT_CONCURRENCY, TRANSPORT_ENV, TRANSPORTS, Sender
from .sending.types import Endpoint, Progress, Recipient

warnings.warn(
    "apigw_ws.sender is deprecated: import Sender, Endpoint and Recipient from apigw_ws"
    " or apigw_ws.sending",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = [
    "DEFAULT_CONCURRENCY",
    "TRANSPORTS",
    "TRANSPORT_ENV",
    "Endpoint",
    "Progress",
    "Recipient",
    "Sender",
]
