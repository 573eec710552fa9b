"""A third-party plugin that replaces the built-in channel check with its own rule.

It reuses the built-in ``change_channel`` handler but decides itself, through the same
hooks: channels starting with ``vip-`` are for users whose name starts with ``vip``.
"""

import apigw_ws
from apigw_ws.builtin_plugins.channels import change_channel


def _allowed(user, channel):
    if not channel.startswith("vip-"):
        return None
    return bool(user.is_authenticated and user.get_username().startswith("vip"))


@apigw_ws.hookimpl
def apigw_ws_register_handlers(register):
    register(change_channel)


@apigw_ws.hookimpl
def apigw_ws_authorize_connect(context):
    return _allowed(context.user, context.channel)


@apigw_ws.hookimpl
def apigw_ws_check_permission(context, handler):
    if handler.name != "change_channel" or not isinstance(context.body.get("channel"), str):
        return None
    return _allowed(context.user, context.body["channel"])
