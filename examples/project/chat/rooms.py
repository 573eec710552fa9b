"""Room membership: who may join, who is online, the recent history."""

from __future__ import annotations

from typing import Any

from apigw_ws.contrib.django.channel_access import may_join
from apigw_ws.contrib.django.models import WebSocketSession

from .models import Message, Room

HISTORY_LENGTH = 50


def rooms_for(user: Any) -> list[Room]:
    """Return the rooms ``user`` may join, in display order."""
    return [room for room in Room.objects.all() if may_join(user, room.slug)]


def can_join(user: Any, slug: str) -> bool:
    return Room.objects.filter(slug=slug).exists() and may_join(user, slug)


def online(slug: str) -> list[str]:
    """Return the names of the users with a connection open in room ``slug``."""
    names = (
        WebSocketSession.objects.filter(channel_name=slug, connected=True, user__isnull=False)
        .values_list("user__username", flat=True)
        .distinct()
    )
    return sorted(names)


def history(slug: str) -> list[dict[str, Any]]:
    """Return the room's last ``HISTORY_LENGTH`` messages, oldest first."""
    recent = Message.objects.filter(room__slug=slug).select_related("room").order_by("-pk")
    return [message.as_event() for message in reversed(recent[:HISTORY_LENGTH])]
