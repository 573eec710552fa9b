"""The ``ping`` handler the JS client's heartbeat sends: it keeps a quiet socket open.

API Gateway closes a connection after 10 minutes without a client message, and browsers
cannot send WebSocket ping frames, so ``apigw_ws.js`` sends ``{"handler": "ping"}`` after
5 minutes of silence. List ``"apigw_ws.builtin_plugins.heartbeat"`` in
``APIGW_WS["PLUGINS"]`` to answer it; the answer is an empty 200, so nothing is sent back.
"""

from __future__ import annotations

from typing import Any

from apigw_ws.handlers import handler
from apigw_ws.hooks import hookimpl


@handler(name="ping", max_bytes=256)
def ping(ctx: Any) -> None:
    """Do nothing: the message itself resets API Gateway's idle timer."""
    return None


@hookimpl
def apigw_ws_register_handlers(register: Any) -> None:
    register(ping)
