"""``WebSocketSession``: one client connection, and the queries the hot path makes."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connections, models, router
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apigw_ws.sending import encode_message, post_to_connection
from apigw_ws.validation import MAX_CHANNEL_NAME_LENGTH

from ..conf import ws_settings
from .gateway import ApiGateway, channel_name_validator


class WebSocketSessionQuerySet(models.QuerySet):
    def connected(self) -> WebSocketSessionQuerySet:
        return self.filter(connected=True)

    def for_message(self, connection_id: str, gateway: ApiGateway) -> WebSocketSession | None:
        """Return the connected session and its user, counting one more request.

        On PostgreSQL this is one statement (an ``UPDATE ... RETURNING`` joined to the user
        table); elsewhere a ``SELECT`` with the user and an ``UPDATE`` of the counter.
        """
        db = router.db_for_write(self.model)
        if connections[db].vendor == "postgresql":
            return _load_and_count_postgresql(db, connection_id, gateway.pk)
        session = (
            self.using(db)
            .select_related("user")
            .filter(connection_id=connection_id, api_gateway=gateway, connected=True)
            .first()
        )
        if session is not None:
            self.using(db).filter(pk=session.pk).update(request_count=F("request_count") + 1)
            session.request_count += 1
        return session


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
    request_count = models.PositiveBigIntegerField(_("messages received"), default=0)
    source_ip = models.GenericIPAddressField(_("source IP"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=255, blank=True)
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

        A gone connection (410) is marked disconnected with a single ``UPDATE``.
        """
        payload = encode_message(data, max_bytes=ws_settings.MAX_MESSAGE_BYTES)
        client = self.api_gateway.management_client()
        try:
            post_to_connection(client, self.connection_id, payload)
        except client.exceptions.GoneException:
            self.mark_disconnected()
            return False
        return True

    def mark_disconnected(self) -> None:
        now = timezone.now()
        type(self).objects.filter(pk=self.pk).update(connected=False, disconnected_at=now)
        self.connected, self.disconnected_at = False, now


def _columns(model: type[models.Model], alias: str, quote: Any) -> tuple[list[str], list[str]]:
    fields = model._meta.concrete_fields
    return [f.attname for f in fields], [f"{alias}.{quote(f.column)}" for f in fields]


def _load_and_count_postgresql(
    db: str, connection_id: str, gateway_id: int
) -> WebSocketSession | None:
    user_model = WebSocketSession._meta.get_field("user").related_model
    quote = connections[db].ops.quote_name
    s_names, s_cols = _columns(WebSocketSession, "s", quote)
    u_names, u_cols = _columns(user_model, "u", quote)
    table = quote(WebSocketSession._meta.db_table)
    # Only identifiers from model metadata are interpolated; values are parameters.
    sql = (
        f"WITH s AS (UPDATE {table} SET request_count = request_count + 1"  # noqa: S608
        " WHERE connection_id = %s AND api_gateway_id = %s AND connected RETURNING *)"
        f" SELECT {', '.join(s_cols + u_cols)} FROM s"
        f" LEFT JOIN {quote(user_model._meta.db_table)} u"
        f" ON u.{quote(user_model._meta.pk.column)} = s.{quote('user_id')}"
    )
    with connections[db].cursor() as cursor:
        cursor.execute(sql, [connection_id, gateway_id])
        row = cursor.fetchone()
    if row is None:
        return None
    session = WebSocketSession.from_db(db, s_names, row[: len(s_names)])
    user_row = row[len(s_names) :]
    user = user_model.from_db(db, u_names, user_row) if session.user_id is not None else None
    WebSocketSession._meta.get_field("user").set_cached_value(session, user)
    return session
