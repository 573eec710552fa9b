"""A plugin the test suite loads from settings: one handler of each kind."""

import apigw_ws

CALLS = []


@apigw_ws.handler(name="default")
def default(ctx):
    """Echo the body back as the route response."""
    CALLS.append(("default", ctx.connection_id))
    return {"echo": dict(ctx.body), "user": ctx.user.get_username() or None}


@apigw_ws.handler(required_keys=("text",), max_bytes=1024)
def say(ctx):
    """Send text back through the Management API."""
    CALLS.append(("say", ctx.connection_id))
    ctx.reply({"type": "said", "text": ctx.body["text"]})


@apigw_ws.handler(permissions=["auth.view_user", "auth.change_user"])
def moderate(ctx):
    CALLS.append(("moderate", ctx.connection_id))
    return {"ok": True}


@apigw_ws.handler(all_permissions=["auth.view_user", "auth.change_user"])
def administer(ctx):
    CALLS.append(("administer", ctx.connection_id))
    return {"ok": True}


@apigw_ws.handler(name="status", route="presence")
def presence_status(ctx):
    """A handler on a custom route key."""
    CALLS.append(("presence", ctx.connection_id))
    return apigw_ws.Reply({"channel": ctx.channel}, status=202)


@apigw_ws.handler()
def explode(ctx):
    raise RuntimeError("handler bug with a secret: hunter2")


@apigw_ws.hookimpl
def apigw_ws_register_handlers(register):
    for func in (default, say, moderate, administer, presence_status, explode):
        register(func)
