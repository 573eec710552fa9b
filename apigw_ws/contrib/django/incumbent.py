"""Import the rows of ``django-aws-api-gateway-websockets`` into ours.

The incumbent's tables are read with plain SQL, by their table names: its app does not
need to be installed (it cannot be installed beside ours anyway: both give the user model a
``websocket_sessions`` accessor). Nothing is written to its tables, and running the import
twice imports nothing the second time.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from typing import Any

import attrs
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections, models, transaction
from django.utils import timezone

from apigw_ws.events import url_route_for

from .models import ApiGateway, WebSocketSession

APP_LABEL = "django_aws_api_gateway_websockets"
GATEWAY_TABLE = f"{APP_LABEL}_apigateway"
ROUTE_TABLE = f"{APP_LABEL}_apigatewayadditionalroute"
SESSION_TABLE = f"{APP_LABEL}_websocketsession"

#: Columns of the incumbent's ``ApiGateway`` that say how far *its* provisioning got, or
#: are timestamps of its row: meaningless for ours, never copied.
NOT_COPIED = frozenset({"id", "created_on", "updated_on", "last_error", "last_applied_at"})


@attrs.define
class ImportReport:
    """What an import did (or, in a dry run, would do)."""

    gateways_created: list[str] = attrs.Factory(list)
    gateways_existing: list[str] = attrs.Factory(list)
    sessions_created: int = 0
    sessions_existing: int = 0
    #: ``(connection id, reason)`` of live sessions that could not be imported.
    sessions_skipped: list[tuple[str, str]] = attrs.Factory(list)
    #: One entry per additional route: gateway, route key, integration URL, what to do.
    routes: list[dict[str, str]] = attrs.Factory(list)
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


class IncumbentTablesMissing(Exception):
    """The database holds none of the incumbent's tables."""


def _rows(cursor: Any, table: str, where: str = "") -> Iterator[dict[str, Any]]:
    quote = cursor.db.ops.quote_name
    cursor.execute(f"SELECT * FROM {quote(table)} {where}")  # noqa: S608 - names are constants
    names = [column[0] for column in cursor.description]
    for row in cursor.fetchall():
        yield dict(zip(names, row, strict=True))


def _python_value(field: models.Field, value: Any) -> Any:
    """Turn a raw column value into what ``field`` holds (raw SQL skips Django's converters)."""
    if value is None:
        return None
    if isinstance(field, models.JSONField):
        return json.loads(value) if isinstance(value, str) else value
    value = field.to_python(value)
    if isinstance(field, models.DateTimeField) and settings.USE_TZ and timezone.is_naive(value):
        value = value.replace(tzinfo=datetime.UTC)  # SQLite keeps UTC without an offset
    return value


def _gateway_values(row: dict[str, Any]) -> dict[str, Any]:
    values = {}
    for field in ApiGateway._meta.concrete_fields:
        if field.attname in NOT_COPIED or field.attname not in row:
            continue
        value = _python_value(field, row[field.attname])
        if value is None and not field.null:
            continue  # keep our default (e.g. its NULL target_base_endpoint)
        values[field.attname] = value
    return values


def import_incumbent(
    *, using: str = "default", dry_run: bool = False, registered_routes: set[str] = frozenset()
) -> ImportReport:
    """Copy the incumbent's gateways and live sessions; report its additional routes.

    Gateways are matched by ``api_name``: an existing row of ours is left as it is.
    Sessions are matched by connection id; a session without a gateway, or whose channel
    name our validation refuses, is skipped and named in the report. ``registered_routes``
    (route keys with a handler) says which additional routes still need one.
    """
    connection = connections[using]
    tables = set(connection.introspection.table_names())
    if GATEWAY_TABLE not in tables:
        raise IncumbentTablesMissing(
            f"no table {GATEWAY_TABLE!r} in database {using!r}: is this the database the"
            " incumbent used, with its migrations applied?"
        )
    report = ImportReport(dry_run=dry_run)
    with transaction.atomic(using=using), connection.cursor() as cursor:
        gateways = _import_gateways(cursor, report, using)
        if SESSION_TABLE in tables:
            _import_sessions(cursor, report, gateways, using)
        if ROUTE_TABLE in tables:
            _report_routes(cursor, report, gateways, registered_routes)
        if dry_run:
            transaction.set_rollback(True, using=using)
    return report


def _import_gateways(cursor: Any, report: ImportReport, using: str) -> dict[int, ApiGateway]:
    """Create the missing gateways; return ours by the incumbent's primary key."""
    ours: dict[int, ApiGateway] = {}
    for row in _rows(cursor, GATEWAY_TABLE, "ORDER BY id"):
        values = _gateway_values(row)
        name = values.pop("api_name")
        gateway, created = ApiGateway.objects.using(using).get_or_create(
            api_name=name, defaults=values
        )
        (report.gateways_created if created else report.gateways_existing).append(name)
        ours[row["id"]] = gateway
    return ours


def _import_sessions(
    cursor: Any, report: ImportReport, gateways: dict[int, ApiGateway], using: str
) -> None:
    field = WebSocketSession._meta.get_field
    quote = cursor.db.ops.quote_name
    live = f"WHERE {quote('connected')} = %s ORDER BY id"
    cursor.execute(f"SELECT * FROM {quote(SESSION_TABLE)} {live}", [True])  # noqa: S608
    names = [column[0] for column in cursor.description]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    known = set(
        WebSocketSession.objects.using(using)
        .filter(connection_id__in=[row["connection_id"] for row in rows])
        .values_list("connection_id", flat=True)
    )
    new = []
    for row in rows:
        connection_id = row["connection_id"]
        if connection_id in known:
            report.sessions_existing += 1
            continue
        gateway = gateways.get(row["api_gateway_id"])
        if gateway is None:
            report.sessions_skipped.append((connection_id, "it has no API gateway"))
            continue
        session = WebSocketSession(
            connection_id=connection_id,
            api_gateway=gateway,
            channel_name=row["channel_name"] or "",
            user_id=row["user_id"],
            connected_at=_python_value(field("connected_at"), row["created_on"]),
        )
        try:
            session.clean_fields(exclude=["api_gateway", "user"])
        except ValidationError as exc:
            reasons = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            report.sessions_skipped.append((connection_id, reasons))
            continue
        new.append(session)
    WebSocketSession.objects.using(using).bulk_create(new, batch_size=500)
    report.sessions_created = len(new)


def _report_routes(
    cursor: Any, report: ImportReport, gateways: dict[int, ApiGateway], registered: set[str]
) -> None:
    for row in _rows(cursor, ROUTE_TABLE, "ORDER BY id"):
        gateway = gateways.get(row["api_gateway_id"])
        route_key = row["route_key"]
        expected = f"{gateway.target_base_endpoint}{url_route_for(route_key)}" if gateway else ""
        if route_key not in registered:
            action = f"register a handler with @apigw_ws.handler(route={route_key!r})"
        elif row["integration_url"] != expected:
            action = f"integration moves to {expected} (the dispatch view)"
        else:
            action = "ok: a handler is registered"
        report.routes.append(
            {
                "gateway": gateway.api_name if gateway else "",
                "route_key": route_key,
                "integration_url": row["integration_url"],
                "action": action,
            }
        )
