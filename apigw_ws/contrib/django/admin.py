from __future__ import annotations

from django.contrib import admin

from .models import ApiGateway, WebSocketSession


@admin.register(ApiGateway)
class ApiGatewayAdmin(admin.ModelAdmin):
    list_display = ["api_name", "api_id", "stage_name", "region", "default_channel_name", "enabled"]
    list_filter = ["enabled"]
    search_fields = ["api_name", "api_id"]


@admin.register(WebSocketSession)
class WebSocketSessionAdmin(admin.ModelAdmin):
    """Read-only: sessions are written by API Gateway's requests, never by hand.

    Editable rows would let staff bind a live connection to any user.
    """

    list_display = [
        "connection_id",
        "channel_name",
        "user",
        "connected",
        "request_count",
        "connected_at",
    ]
    list_filter = ["connected", "api_gateway"]
    search_fields = ["connection_id", "channel_name"]
    list_select_related = ["user"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
