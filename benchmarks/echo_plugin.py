"""Our side's test plugin, listed in ``APIGW_WS["PLUGINS"]``: one echo handler.

The incumbent's ``EchoView.echo`` in ``incumbent.py`` answers the same JSON.
"""

import apigw_ws


@apigw_ws.handler(name="echo")
def echo(ctx):
    """Echo the message body and name the session's user."""
    return {"echo": dict(ctx.body), "user": ctx.user.get_username()}


@apigw_ws.hookimpl
def apigw_ws_register_handlers(register):
    register(echo)
