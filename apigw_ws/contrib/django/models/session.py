"""``WebSocketSession``: one client connection, and the queries the hot path makes."""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings
from django.db import connections, models, router
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
        table); elsewhere a ``SELECT`` joined to the user and an ``UPDATE`` of the counter.
        The SQL is built once per database from the models' metadata: on the hot path the
        ORM's query compilation costs more than the queries themselves.
        """
        db = router.db_for_write(self.model)
        return _hot_path(db, connections[db].vendor).load(connection_id, gateway.pk)


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


class _HotPath:
    """The message path's SQL for one database, and the rows it returns made into models."""

    def __init__(self, db: str) -> None:
        connection = connections[db]
        quote = connection.ops.quote_name
        user_model = WebSocketSession._meta.get_field("user").related_model
        self.db = db
        self.models = ((WebSocketSession, "s"), (user_model, "u"))
        self.names = [[f.attname for f in m._meta.concrete_fields] for m, _ in self.models]
        self.converters = []
        for model, alias in self.models:
            for field in model._meta.concrete_fields:
                col = field.get_col(alias)
                found = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
                self.converters.append((found, col))
        columns = ", ".join(
            f"{alias}.{quote(f.column)}"
            for model, alias in self.models
            for f in model._meta.concrete_fields
        )
        table = quote(WebSocketSession._meta.db_table)
        join = (
            f" LEFT JOIN {quote(user_model._meta.db_table)} u"
            f" ON u.{quote(user_model._meta.pk.column)} = s.{quote('user_id')}"
        )
        where = "connection_id = %s AND api_gateway_id = %s AND connected = %s"
        # Only identifiers from model metadata are interpolated; values are parameters.
        if connection.vendor == "postgresql":
            self.select = (
                f"WITH s AS (UPDATE {table} SET request_count = request_count + 1"  # noqa: S608
                f" WHERE {where} RETURNING *) SELECT {columns} FROM s{join}"
            )
            self.count = ""
        else:
            self.select = f"SELECT {columns} FROM {table} s{join} WHERE s.{where}"  # noqa: S608
            pk = quote(WebSocketSession._meta.pk.column)
            self.count = f"UPDATE {table} SET request_count = request_count + 1 WHERE {pk} = %s"  # noqa: S608

    def load(self, connection_id: str, gateway_id: int) -> WebSocketSession | None:
        connection = connections[self.db]
        with connection.cursor() as cursor:
            cursor.execute(self.select, [connection_id, gateway_id, True])
            row = cursor.fetchone()
            if row is None:
                return None
            values = list(row)
            for i, (converters, col) in enumerate(self.converters):
                for convert in converters:
                    values[i] = convert(values[i], col, connection)
            split = len(self.names[0])
            session = WebSocketSession.from_db(self.db, self.names[0], values[:split])
            if self.count:
                cursor.execute(self.count, [session.pk])
                session.request_count += 1
        user_model = self.models[1][0]
        user = None
        if session.user_id is not None:
            user = user_model.from_db(self.db, self.names[1], values[split:])
        WebSocketSession._meta.get_field("user").set_cached_value(session, user)
        return session


@functools.cache
def _hot_path(db: str, vendor: str) -> _HotPath:
    return _HotPath(db)
