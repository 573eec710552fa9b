"""Identifiers shaped like API Gateway's, for the local gateway and the test client."""

from __future__ import annotations

import base64
import os
import secrets
import time


def new_connection_id() -> str:
    """Return a fresh id shaped like API Gateway's (16 characters, e.g. ``L0SM9cOFvHcCIhw=``)."""
    return base64.urlsafe_b64encode(os.urandom(11)).decode()


def trace_id() -> str:
    """Return an ``X-Amzn-Trace-Id`` value in AWS's format."""
    return f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}"


def request_id() -> str:
    """Return a request id shaped like API Gateway's (``Vh5fZFx8IAMFaVQ=``)."""
    return secrets.token_urlsafe(11)[:15] + "="
