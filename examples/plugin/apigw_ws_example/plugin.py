"""The example plugin: four handlers and a validator for one of them.

Messages choose a handler with their ``handler`` key (``APIGW_WS["HANDLER_KEY"]``) and a
route with ``action`` (API Gateway's route selection), e.g.
``{"handler": "whoami"}`` or ``{"action": "notes", "handler": "add", "text": "hi"}``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

import apigw_ws


@apigw_ws.handler()
def echo(ctx: apigw_ws.MessageContext) -> dict[str, Any]:
    """Return the message as the route response."""
    return {"echo": dict(ctx.body)}


@apigw_ws.handler()
def whoami(ctx: apigw_ws.MessageContext) -> dict[str, Any]:
    """Return the user bound to this connection at connect, and its channel."""
    return {"user": ctx.user.get_username() or None, "channel": ctx.channel}


@apigw_ws.handler(permissions=["auth.view_user"])
def user_count(ctx: apigw_ws.MessageContext) -> dict[str, Any]:
    """Return how many users the site has; needs the auth.view_user permission."""
    return {"users": get_user_model().objects.count()}


NOTE_SCHEMA = {
    "type": "object",
    "properties": {"text": {"type": "string", "minLength": 1, "maxLength": 500}},
    "required": ["text"],
}


@apigw_ws.handler(name="add", route="notes", required_keys=("text",), max_bytes=2048)
def add_note(ctx: apigw_ws.MessageContext) -> dict[str, Any]:
    """Return the note in the text key, stripped and signed with the sender's name."""
    return {"note": ctx.body["text"].strip(), "by": ctx.user.get_username() or "anonymous"}


@apigw_ws.handler(name="share", route="notes", schema=NOTE_SCHEMA)
def share_note(ctx: apigw_ws.MessageContext) -> dict[str, Any]:
    """Send the note to every connection in the sender's channel; answer how many got it."""
    from apigw_ws.contrib.django.models import WebSocketSession

    note = {"type": "note", "text": ctx.body["text"], "by": ctx.user.get_username() or None}
    report = WebSocketSession.objects.filter(channel_name=ctx.channel).send_message(note)
    return {"sent": report.sent, "gone": len(report.gone)}


@apigw_ws.hookimpl
def apigw_ws_register_handlers(register: Any) -> None:
    for func in (echo, whoami, user_count, add_note, share_note):
        register(func)


@apigw_ws.hookimpl
def apigw_ws_validate_message(
    context: apigw_ws.MessageContext, handler: apigw_ws.Handler, body: dict[str, Any]
) -> list[str] | None:
    # Validators see every message of every plugin: act on our own handler only.
    # Comparing the function works whatever name the plugin was loaded under.
    if handler.func is not add_note:
        return None
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        return ["text must be a non-empty string"]
    return None
