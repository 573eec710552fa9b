"""The chat page: one room at a time, switched in place by the page's script."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.views.generic import TemplateView

from apigw_ws.contrib.django.mixins import WebSocketMixin

from .models import Room
from .rooms import can_join, rooms_for


def index(request: Any) -> Any:
    """Send the visitor to the first room they may join."""
    if not request.user.is_authenticated:
        return redirect("login")
    rooms = rooms_for(request.user)
    if not rooms:
        raise PermissionDenied("no room you may join")
    return redirect("chat:room", slug=rooms[0].slug)


class RoomView(LoginRequiredMixin, WebSocketMixin, TemplateView):
    """The chat page for one room; the WebSocket joins the room's channel."""

    template_name = "chat/room.html"
    websocket_gateway = "local"  # the ApiGateway row scripts/demo creates
    # A server close with 1000 (the admin's "Disconnect", a logout elsewhere) is final:
    # the page says so and offers to reconnect, rather than reconnecting by itself.
    websocket_options = {"finalCloseCodes": [1000]}

    def get_websocket_channel(self) -> str:
        slug = self.kwargs["slug"]
        if not Room.objects.filter(slug=slug).exists():
            raise Http404("no such room")
        if not can_join(self.request.user, slug):
            raise PermissionDenied("not allowed in this room")
        return slug

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["page"] = {
            "room": context["channel_name"],
            "user": user.get_username(),
            "rooms": [{"slug": r.slug, "title": r.title} for r in rooms_for(user)],
            "canBroadcast": user.has_perm("chat.broadcast"),
            "roomUrl": "/chat/{slug}/",
        }
        return context
