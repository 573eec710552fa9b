"""Our side's test plugin, listed in ``APIGW_WS["PLUGINS"]``: an echo handler, and one
guarded by a permission.

The incumbent's ``EchoView.echo`` in ``incumbent.py`` answers the same JSON.
"""

import apigw_ws


@apigw_ws.handler(name="echo")
def echo(ctx):
    """Echo the message body and name the session's user."""
    return {"echo": dict(ctx.body), "user": ctx.user.get_username()}


@apigw_ws.handler(name="guarded_echo", permissions=["auth.view_user"])
def guarded_echo(ctx):
    """The same, for users with the ``auth.view_user`` permission only."""
    return {"echo": dict(ctx.body), "user": ctx.user.get_username()}


@apigw_ws.hookimpl
def apigw_ws_register_handlers(register):
    register(echo)
    register(guarded_echo)
