"""``WebSocketSession``: one client connection, and the queries the hot path makes."""

from __future__ import annotations

import functools
import json
from typing import Any

from django.conf import settings
from django.db import connections, models, router
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
        now = timezone.now()
        type(self).objects.filter(pk=self.pk).update(connected=False, disconnected_at=now)
        self.connected, self.disconnected_at = False, now


class _HotPath:
    """The message path's SQL for one database, and the rows it returns made into models.

    One statement where the database allows it: on PostgreSQL an ``UPDATE ... RETURNING``
    in a CTE joined to the user table; on SQLite an ``UPDATE ... RETURNING`` whose user
    columns come back as one JSON array from a subquery (SQLite's ``RETURNING`` may not
    join). Elsewhere a ``SELECT`` joined to the user and an ``UPDATE`` of the counter.
    """

    #: User fields JSON would not carry exactly (bytes, decimals): use two statements.
    NOT_JSON_SAFE = frozenset({"BinaryField", "DecimalField"})

    def __init__(self, db: str) -> None:
        connection = connections[db]
        quote = connection.ops.quote_name
        user_model = WebSocketSession._meta.get_field("user").related_model
        self.db = db
        self.user_model = user_model
        self.models = ((WebSocketSession, "s"), (user_model, "u"))
        self.names = [[f.attname for f in m._meta.concrete_fields] for m, _ in self.models]
        self.split = len(self.names[0])
        self.converters = []
        for model, alias in self.models:
            for field in model._meta.concrete_fields:
                col = field.get_col(alias)
                found = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
                self.converters.append((found, col))

        def columns(model: type[models.Model], alias: str) -> list[str]:
            return [f"{alias}.{quote(f.column)}" for f in model._meta.concrete_fields]

        session_columns, user_columns = (columns(m, alias) for m, alias in self.models)
        table = quote(WebSocketSession._meta.db_table)
        user_table = quote(user_model._meta.db_table)
        user_pk = f"u.{quote(user_model._meta.pk.column)}"
        where = "connection_id = %s AND api_gateway_id = %s AND connected = %s"
        increment = "SET request_count = request_count + 1"
        self.user_as_json = self.count = ""
        # Only identifiers from model metadata are interpolated; values are parameters.
        if connection.vendor == "postgresql":
            self.select = (
                f"WITH s AS (UPDATE {table} {increment} WHERE {where} RETURNING *)"  # noqa: S608
                f" SELECT {', '.join(session_columns + user_columns)}"
                f" FROM s LEFT JOIN {user_table} u ON {user_pk} = s.{quote('user_id')}"
            )
        elif self._sqlite_can_return_json(connection, user_model):
            self.user_as_json = "json"
            # SQLite's RETURNING takes no alias: bare columns, the table's name to correlate.
            bare = [quote(f.column) for f in WebSocketSession._meta.concrete_fields]
            self.select = (
                f"UPDATE {table} {increment} WHERE {where} RETURNING"  # noqa: S608
                f" {', '.join(bare)}, (SELECT json_array({', '.join(user_columns)})"
                f" FROM {user_table} u WHERE {user_pk} = {table}.{quote('user_id')})"
            )
        else:
            self.select = (
                f"SELECT {', '.join(session_columns + user_columns)} FROM {table} s"  # noqa: S608
                f" LEFT JOIN {user_table} u ON {user_pk} = s.{quote('user_id')} WHERE s.{where}"
            )
            pk = quote(WebSocketSession._meta.pk.column)
            self.count = f"UPDATE {table} {increment} WHERE {pk} = %s"

    @classmethod
    def _sqlite_can_return_json(cls, connection: Any, user_model: type[models.Model]) -> bool:
        return (
            connection.vendor == "sqlite"
            and connection.features.can_return_columns_from_insert  # SQLite >= 3.35
            and connection.features.supports_json_field
            and not any(
                f.get_internal_type() in cls.NOT_JSON_SAFE for f in user_model._meta.concrete_fields
            )
        )

    def load(self, connection_id: str, gateway_id: int) -> WebSocketSession | None:
        connection = connections[self.db]
        with connection.cursor() as cursor:
            cursor.execute(self.select, [connection_id, gateway_id, True])
            row = cursor.fetchone()
            if row is None:
                return None
            values = list(row)
            if self.user_as_json:
                user_json = values.pop()
                values += json.loads(user_json) if user_json else [None] * len(self.names[1])
            for i, (converters, col) in enumerate(self.converters):
                for convert in converters:
                    values[i] = convert(values[i], col, connection)
            session = WebSocketSession.from_db(self.db, self.names[0], values[: self.split])
            if self.count:
                cursor.execute(self.count, [session.pk])
                session.request_count += 1
        user = None
        if session.user_id is not None:
            user = self.user_model.from_db(self.db, self.names[1], values[self.split :])
        WebSocketSession._meta.get_field("user").set_cached_value(session, user)
        return session


@functools.cache
def _hot_path(db: str, vendor: str) -> _HotPath:
    return _HotPath(db)
