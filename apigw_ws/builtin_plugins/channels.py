"""Channel access: who may join a channel, at connect and with the ``change_channel`` handler.

Rules are ``ChannelPermission`` rows (exact names or ``*``/``?`` patterns, edited in the
admin). A channel no row matches is allowed when ``APIGW_WS["CHANNELS"]["ALLOW_UNLISTED"]``
is true (the default), refused otherwise.

The checks go through the hooks, never through the handler itself: joining at connect is
an ``apigw_ws_authorize_connect`` vote, switching is an ``apigw_ws_check_permission`` vote
on any handler named ``change_channel``. A project that wants other rules lists its own
plugin instead of this one and may register :func:`change_channel` itself.
"""

from __future__ import annotations

from typing import Any

from apigw_ws.errors import BadRequest
from apigw_ws.handlers import handler
from apigw_ws.hooks import hookimpl
from apigw_ws.validation import channel_name_problem, check_channel_name

CHANGE_CHANNEL = "change_channel"


def may_join(user: Any, channel: str) -> bool:
    """Return whether ``user`` may join ``channel`` under the ``ChannelPermission`` rules."""
    from apigw_ws.contrib.django.conf import ws_settings
    from apigw_ws.contrib.django.models import ChannelPermission

    rule = ChannelPermission.objects.for_channel(channel)
    if rule is None:
        return bool(ws_settings.CHANNELS["ALLOW_UNLISTED"])
    return rule.allows(user)


@handler(name=CHANGE_CHANNEL, required_keys=("channel",), max_bytes=1024)
def change_channel(ctx: Any) -> dict[str, str]:
    """Move this connection to ``body["channel"]``; answer ``{"channel": name}``."""
    from apigw_ws.contrib.django.models import WebSocketSession
    from apigw_ws.contrib.django.session_cache import forget

    channel = ctx.body.get("channel")
    if not isinstance(channel, str):
        raise BadRequest("change_channel: 'channel' is not a string", public="Invalid channel")
    check_channel_name(channel)
    WebSocketSession.objects.filter(pk=ctx.session.pk, connected=True).update(channel_name=channel)
    forget([ctx.session.connection_id])
    ctx.session.channel_name = channel
    return {"channel": channel}


@hookimpl
def apigw_ws_register_handlers(register: Any) -> None:
    register(change_channel)


@hookimpl
def apigw_ws_authorize_connect(context: Any) -> bool | None:
    if not context.channel:
        return None  # no channel joined, nothing to decide
    return may_join(context.user, context.channel)


@hookimpl
def apigw_ws_check_permission(context: Any, handler: Any) -> bool | None:
    if handler.name != CHANGE_CHANNEL:
        return None
    channel = context.body.get("channel")
    if not isinstance(channel, str) or channel_name_problem(channel):
        return None  # malformed: the validators (or the handler) answer 400
    return may_join(context.user, channel)
