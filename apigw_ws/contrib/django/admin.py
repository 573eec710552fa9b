from __future__ import annotations

from datetime import timedelta

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import fanout_admin  # noqa: F401 - registers the fan-out admin
from .admin_actions import apply_gateways, plan_gateways, sync_gateways
from .models import ApiGateway, ChannelPermission, WebSocketSession, WebSocketToken
from .session_actions import disconnect, send_test_message


@admin.register(ApiGateway)
class ApiGatewayAdmin(admin.ModelAdmin):
    list_display = [
        "api_name",
        "api_id",
        "stage_name",
        "region",
        "domain_name",
        "default_channel_name",
        "enabled",
        "last_applied_at",
    ]
    list_filter = ["enabled"]
    search_fields = ["api_name", "api_id", "domain_name"]
    # Provisioning: the actions report through admin messages; AWS's answers are read-only.
    actions = [plan_gateways, apply_gateways, sync_gateways]
    readonly_fields = [
        "api_endpoint",
        "deployment_id",
        "api_gateway_domain_name",
        "api_gateway_hosted_zone_id",
        "api_mapping_id",
        "last_applied_at",
        "last_error",
    ]


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
        "connected_at",
        "duration",
    ]
    list_filter = ["connected", "api_gateway"]
    search_fields = ["connection_id", "channel_name"]
    list_select_related = ["user"]
    actions = [send_test_message, disconnect]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    @admin.display(description=_("connected for"))
    def duration(self, obj: WebSocketSession) -> str:
        """How long the connection lasted, or has lasted so far (no message count is kept)."""
        end = obj.disconnected_at or timezone.now()
        return str(timedelta(seconds=int((end - obj.connected_at).total_seconds())))


@admin.register(WebSocketToken)
class WebSocketTokenAdmin(admin.ModelAdmin):
    """Read-only, and without the HMAC columns: nothing shown here can open a connection."""

    list_display = ["user", "created_at", "expires_at", "used_at", "is_bound_to_session"]
    list_filter = ["created_at", "used_at"]
    list_select_related = ["user"]
    fields = ["user", "created_at", "expires_at", "used_at", "is_bound_to_session"]
    readonly_fields = fields
    ordering = ["-created_at"]

    @admin.display(boolean=True, description="bound to a session")
    def is_bound_to_session(self, obj: WebSocketToken) -> bool:
        return obj.is_bound_to_session

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(ChannelPermission)
class ChannelPermissionAdmin(admin.ModelAdmin):
    """Who may join which channels; read by the built-in channels plugin."""

    list_display = ["channel_name", "access", "require_all_permissions", "description"]
    list_filter = ["access"]
    search_fields = ["channel_name", "description"]
    filter_horizontal = ["permissions"]
    fields = ["channel_name", "access", "permissions", "require_all_permissions", "description"]
