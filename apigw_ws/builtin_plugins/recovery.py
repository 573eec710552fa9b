"""Message recovery: numbered channel messages, a backlog, and replay on reconnect.

Switch it on by listing ``"apigw_ws.builtin_plugins.recovery"`` in ``APIGW_WS["PLUGINS"]``.
Every message sent with ``send_to_channel`` then gets ``id``, ``seq`` and ``channel``
fields and is kept in a bounded backlog (``APIGW_WS["RECOVERY"]``: the database by
default, or a cache). The ``resume`` handler replays to a reconnecting client what it
missed; ``apigw_ws.js`` sends it on every open when the page's config says so, which
``{% apigw_ws_client %}`` does while this plugin is loaded. Another plugin replaces the
store by returning its own from ``apigw_ws_backlog_store`` (the first result wins).
"""

from __future__ import annotations

from typing import Any

from apigw_ws.handlers import handler
from apigw_ws.hooks import hookimpl
from apigw_ws.recovery import RESUME_HANDLER


@handler(name=RESUME_HANDLER, max_bytes=8 * 1024)
def resume(ctx: Any) -> None:
    """Replay what this connection's channel sent after the client's last sequence number."""
    # Imported here: the Django app is needed at call time, never at import time.
    from apigw_ws.contrib.django.recovery import resume as replay

    replay(ctx)


@hookimpl
def apigw_ws_register_handlers(register: Any) -> None:
    register(resume)


@hookimpl
def apigw_ws_backlog_store() -> Any:
    from apigw_ws.contrib.django.recovery import configured_store

    return configured_store()
