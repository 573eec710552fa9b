"""The chat's WebSocket side: a plugin module of handlers and hooks.

Listed in ``APIGW_WS["PLUGINS"]`` as ``"chat.ws"``. Joining a room is a connect with
``?channel=<room>``; the built-in ``channels`` plugin decides who may (``ChannelPermission``
rows), the ``tokens`` plugin who is asking. The page switches rooms by reconnecting with a
fresh token, so every join passes both checks again.

Events the page receives (each a JSON object with a ``type``): ``welcome`` (the answer to
``hello``: history and who is online), ``chat_message``, ``presence``, ``joined``,
``typing`` and ``broadcast``.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction

import apigw_ws
from apigw_ws.contrib.django.models import WebSocketSession
from apigw_ws.contrib.django.sending import send_to_channel

from .models import MAX_ACK_ID_LENGTH, MAX_TEXT_LENGTH, Message, Room
from .rooms import history, online

logger = logging.getLogger(__name__)


def _others_in(room: str, session: WebSocketSession) -> Any:
    # Never the session itself: on $connect, API Gateway answers 410 for a connection whose
    # connect is still being handled.
    return WebSocketSession.objects.filter(channel_name=room, connected=True).exclude(pk=session.pk)


def _text(ctx: apigw_ws.MessageContext) -> str:
    text = ctx.body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise apigw_ws.BadRequest("text is not a non-empty string", public="Empty message")
    text = text.strip()
    if len(text) > MAX_TEXT_LENGTH:
        raise apigw_ws.PayloadTooLarge(
            f"text of {len(text)} characters", public=f"Message longer than {MAX_TEXT_LENGTH}"
        )
    return text


def _room(ctx: apigw_ws.MessageContext) -> Room:
    room = Room.objects.filter(slug=ctx.channel).first()
    if room is None:  # a connection outside any room (e.g. the default channel)
        raise apigw_ws.BadRequest(f"channel {ctx.channel!r} is no room", public="Not in a room")
    return room


@apigw_ws.handler(max_bytes=256)
def hello(ctx: apigw_ws.MessageContext) -> dict[str, Any]:
    """Answer the room's recent history and who is online (the page asks on every open)."""
    room = _room(ctx)
    return {
        "type": "welcome",
        "room": room.slug,
        "user": ctx.user.get_username(),
        "history": history(room.slug),
        "online": online(room.slug),
    }


def _ack_id(ctx: apigw_ws.MessageContext) -> str:
    ack_id = ctx.body.get("ack_id", "")
    if not isinstance(ack_id, str) or len(ack_id) > MAX_ACK_ID_LENGTH:
        raise apigw_ws.BadRequest("ack_id is not a short string", public="Invalid ack_id")
    return ack_id


@apigw_ws.handler(required_keys=("text",), max_bytes=8 * 1024)
def post(ctx: apigw_ws.MessageContext) -> dict[str, Any] | None:
    """Store a message and send it to everyone in the room, the sender included.

    The page's ``ack_id`` makes a repeat harmless: a message the page sent again after a
    reconnect (it never saw the acknowledgement) is stored once, and the repeat is
    answered with the stored message, which acknowledges it.
    """
    room, text, ack_id = _room(ctx), _text(ctx), _ack_id(ctx)
    if ack_id:
        known = Message.objects.filter(user=ctx.user, ack_id=ack_id).select_related("room")
        if known.exists():
            return known.get().as_event()
    try:
        with transaction.atomic():
            message = Message.objects.create(
                room=room,
                user=ctx.user,
                username=ctx.user.get_username(),
                text=text,
                ack_id=ack_id,
            )
    except IntegrityError:  # the same ack_id raced in: the first one is the message
        return Message.objects.select_related("room").get(user=ctx.user, ack_id=ack_id).as_event()
    # send_to_channel: with the recovery plugin the message gets its seq and is kept for
    # pages that reconnect.
    send_to_channel(room.slug, message.as_event())
    return None


@apigw_ws.handler(max_bytes=256)
def typing(ctx: apigw_ws.MessageContext) -> None:
    """Tell the others in the room that this user is typing."""
    room = _room(ctx)
    _others_in(room.slug, ctx.session).send_message(
        {"type": "typing", "room": room.slug, "user": ctx.user.get_username()}
    )


@apigw_ws.handler(permissions=["chat.broadcast"], required_keys=("text",), max_bytes=8 * 1024)
def broadcast(ctx: apigw_ws.MessageContext) -> dict[str, Any]:
    """Send a notice to every connected user, whatever their room (chat.broadcast)."""
    text = _text(ctx)
    report = WebSocketSession.objects.filter(connected=True).send_message(
        {"type": "broadcast", "user": ctx.user.get_username(), "text": text}
    )
    return {"type": "broadcast_sent", "sent": report.sent}


@apigw_ws.hookimpl
def apigw_ws_register_handlers(register: Any) -> None:
    for func in (hello, post, typing, broadcast):
        register(func)


def _presence(room: str, session: WebSocketSession) -> None:
    _others_in(room, session).send_message(
        {"type": "presence", "room": room, "online": online(room)}
    )


@apigw_ws.hookimpl
def apigw_ws_on_connect(session: WebSocketSession) -> None:
    if not session.channel_name or session.user is None:
        return
    room = session.channel_name
    _others_in(room, session).send_message(
        {"type": "joined", "room": room, "user": session.user.get_username()}
    )
    _presence(room, session)


@apigw_ws.hookimpl
def apigw_ws_on_disconnect(session: WebSocketSession) -> None:
    if session.channel_name:
        _presence(session.channel_name, session)
