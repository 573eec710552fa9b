"""``WebSocketSession``: one client connection, and the read the message path makes."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apigw_ws.validation import MAX_CHANNEL_NAME_LENGTH

from .gateway import ApiGateway, channel_name_validator


class WebSocketSessionQuerySet(models.QuerySet):
    def connected(self) -> WebSocketSessionQuerySet:
        return self.filter(connected=True)

    def send_message(self, data: Any, **options: Any) -> Any:
        """Send ``data`` to every connected session here, in parallel; return the report.

        Options (``concurrency``, ``on_commit``, ``background``, ``chunk_size``) are those
        of ``apigw_ws.contrib.django.sending.send_to_sessions``.
        """
        from ..sending import send_to_sessions

        return send_to_sessions(self, data, **options)

    def for_message(self, connection_id: str, gateway: ApiGateway) -> WebSocketSession | None:
        """Return the connected session of ``connection_id`` on ``gateway`` with its user.

        One read (the user joined in), no write: the message path never writes. The
        user's ``password`` and ``last_login`` are deferred (one query if read).
        """
        from ..session_cache import read_session

        return read_session(connection_id, gateway, using=self.db)


class WebSocketSession(models.Model):
    """One client connection, keyed by API Gateway's connection id."""

    connection_id = models.CharField(_("connection id"), max_length=128, unique=True)
    api_gateway = models.ForeignKey(
        ApiGateway, on_delete=models.CASCADE, related_name="sessions", verbose_name=_("gateway")
    )
    channel_name = models.CharField(
        _("channel"),
        max_length=MAX_CHANNEL_NAME_LENGTH,
        blank=True,
        validators=[channel_name_validator],
    )
    # CASCADE: a deleted user's open connections must not live on as anonymous ones.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="websocket_sessions",
    )
    connected = models.BooleanField(_("connected"), default=True)
    source_ip = models.GenericIPAddressField(_("source IP"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=255, blank=True)
    # The HMAC (tokens.hash_session_key) of the Django session the connect was logged in
    # with: ws_cleanup ends sessions whose login session no longer exists.
    login_session_hash = models.CharField(
        _("login session HMAC"), max_length=64, blank=True, default="", editable=False
    )
    connected_at = models.DateTimeField(_("connected at"), default=timezone.now)
    disconnected_at = models.DateTimeField(_("disconnected at"), null=True, blank=True)

    objects = WebSocketSessionQuerySet.as_manager()

    class Meta:
        verbose_name = _("WebSocket session")
        verbose_name_plural = _("WebSocket sessions")
        indexes = [
            models.Index(fields=["channel_name", "connected"], name="apigw_ws_channel_idx"),
            models.Index(fields=["connected", "connected_at"], name="apigw_ws_connected_idx"),
        ]

    def __str__(self) -> str:
        return self.connection_id

    def send_message(self, data: Any) -> bool:
        """Post ``data`` (JSON-encoded) to this connection; return ``False`` if it is gone.

        A gone connection (410) is marked disconnected with a single ``UPDATE``, unless
        its ``$connect`` may still be in flight. Raises ``MessageTooLarge`` or
        ``MessageNotSerializable`` before any network call, ``ManagementApiForbidden``
        on a 403, ``SendError`` when the message could not be delivered.
        """
        from ..sending import send_one

        return send_one(self, data)

    def close(self) -> bool:
        """Close this connection (``DeleteConnection``); return ``False`` if already gone."""
        from ..sending import close

        return close(self)

    def mark_disconnected(self) -> None:
        """Mark this session disconnected now (one ``UPDATE``) and forget its cache entry."""
        from ..session_cache import forget

        now = timezone.now()
        type(self).objects.filter(pk=self.pk).update(connected=False, disconnected_at=now)
        self.connected, self.disconnected_at = False, now
        forget([self.connection_id])
