"""Channel access: who may join a channel, at connect and with the ``change_channel`` handler.

Rules are ``ChannelPermission`` rows (exact names or ``*``/``?`` patterns, edited in the
admin); the Django app holds them and decides with them
(``apigw_ws.contrib.django.channel_access``), and also re-decides when a user's access
may have changed.

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


@handler(name=CHANGE_CHANNEL, required_keys=("channel",), max_bytes=1024)
def change_channel(ctx: Any) -> dict[str, str]:
    """Move this connection to ``body["channel"]``; answer ``{"channel": name}``."""
    from apigw_ws.contrib.django.channel_access import move_to_channel

    channel = ctx.body.get("channel")
    if not isinstance(channel, str):
        raise BadRequest("change_channel: 'channel' is not a string", public="Invalid channel")
    check_channel_name(channel)
    move_to_channel(ctx.session, channel)
    return {"channel": channel}


@hookimpl
def apigw_ws_register_handlers(register: Any) -> None:
    register(change_channel)


@hookimpl
def apigw_ws_authorize_connect(context: Any) -> bool | None:
    from apigw_ws.contrib.django.channel_access import may_join

    if not context.channel:
        return None  # no channel joined, nothing to decide
    return may_join(context.user, context.channel)


@hookimpl
def apigw_ws_check_permission(context: Any, handler: Any) -> bool | None:
    from apigw_ws.contrib.django.channel_access import may_join

    if handler.name != CHANGE_CHANNEL:
        return None
    channel = context.body.get("channel")
    if not isinstance(channel, str) or channel_name_problem(channel):
        return None  # malformed: the validators (or the handler) answer 400
    return may_join(context.user, channel)


def __getattr__(name: str) -> Any:
    # The names that lived here before the Django app took them: still importable from
    # here, and only once asked for, so importing this module loads no Django.
    if name == "may_join":
        from apigw_ws.contrib.django.channel_access import may_join

        return may_join
    if name == "recheck_users":
        from apigw_ws.contrib.django.channel_access import recheck_users

        return recheck_users
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
