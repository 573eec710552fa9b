"""Delivering an encoded message to sessions: recipients streamed in, the gone ones marked.

What every send from Django ends in, foreground or in a fan-out's task: sessions turned
into recipients (streamed from the database in keyset-paginated chunks, each with its
gateway's endpoint), the core ``Sender`` posting to them, and the sessions found gone
marked disconnected in one bulk ``UPDATE``. The public helpers in
``apigw_ws.contrib.django.sending`` are built on it, and so is the fan-out, which the
helpers start: so this module imports neither.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.utils import timezone

from apigw_ws import pipeline
from apigw_ws.sending import Endpoint, Progress, Recipient, Sender, SendReport

from .. import session_cache
from ..conf import ws_settings
from ..runtime import get_plugins

if TYPE_CHECKING:
    from ..models import ApiGateway

logger = logging.getLogger(__name__)

#: A 410 this soon after the session row was written may mean its ``$connect`` is still
#: being answered (API Gateway's integration timeout is 29 s): that session is not dead.
CONNECT_GRACE = timedelta(seconds=30)
#: Rows read per query while streaming recipients.
READ_CHUNK = 2000
#: Ids per ``UPDATE``: one statement per fan-out unless more than this many are gone.
GONE_BATCH = 5000


def endpoint_for(gateway: ApiGateway | None) -> Endpoint | None:
    """Return the Management API endpoint of ``gateway``, or ``None`` if it has none."""
    if gateway is None or not (ws_settings.ENDPOINT_URL or gateway.api_id):
        return None
    region = gateway.region_name or None
    return Endpoint(gateway.management_endpoint, region, ws_settings.AWS_PROFILE)


def get_sender(concurrency: int | None = None) -> Sender:
    """Return a ``Sender`` configured from ``APIGW_WS``."""
    return Sender(
        concurrency=concurrency or ws_settings.SEND_CONCURRENCY,
        max_bytes=ws_settings.MAX_MESSAGE_BYTES,
        transport=ws_settings.SEND_TRANSPORT,
        rate_limit=ws_settings.SEND_RATE_LIMIT,
    )


def connected_rows(
    sessions: QuerySet, fields: tuple[str, ...], chunk: int
) -> Iterator[list[tuple[Any, ...]]]:
    """Yield ``(pk, *fields)`` of the connected sessions in ``sessions``, ``chunk`` at a time.

    Keyset pagination: each chunk is its own short query, so no cursor stays open while
    the network works, and memory holds one chunk.
    """
    if sessions.query.is_sliced:  # cannot be filtered further; a slice is small anyway
        rows = [
            (pk, *rest)
            for pk, connected, *rest in sessions.values_list("pk", "connected", *fields)
            if connected
        ]
        for start in range(0, len(rows), chunk):
            yield rows[start : start + chunk]
        return
    base = sessions.filter(connected=True).order_by("pk").values_list("pk", *fields)
    last = None
    while True:
        page = base if last is None else base.filter(pk__gt=last)
        rows = list(page[:chunk])
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def connected_pks(sessions: QuerySet, chunk: int) -> Iterator[list[int]]:
    """Yield the primary keys of the connected sessions in ``sessions``, ``chunk`` at a time."""
    for rows in connected_rows(sessions, (), chunk):
        yield [row[0] for row in rows]


def recipients(sessions: QuerySet) -> Iterator[Recipient]:
    """Yield a ``Recipient`` for each connected session in ``sessions``, streamed."""
    from ..models import ApiGateway

    endpoints: dict[int, Endpoint | None] = {}
    for rows in connected_rows(sessions, ("connection_id", "api_gateway_id"), READ_CHUNK):
        for _pk, connection_id, gateway_id in rows:
            if gateway_id not in endpoints:
                gateway = ApiGateway.objects.filter(pk=gateway_id).first()
                endpoints[gateway_id] = endpoint_for(gateway)
            yield Recipient(connection_id, endpoints[gateway_id])


def mark_gone(connection_ids: list[str], *, source: str = "send") -> int:
    """Mark the sessions of ``connection_ids`` disconnected; return how many were marked.

    One ``UPDATE`` (per ``GONE_BATCH`` ids). Sessions written less than
    ``CONNECT_GRACE`` ago are left alone: their ``$connect`` may still be in flight.
    Then ``apigw_ws_on_sessions_gone`` is called with the marked ids.
    """
    from ..models import WebSocketSession

    if not connection_ids:
        return 0
    now = timezone.now()
    hook = get_plugins().hook.apigw_ws_on_sessions_gone
    notify = bool(hook.get_hookimpls())
    marked: list[str] = []
    count = 0
    for start in range(0, len(connection_ids), GONE_BATCH):
        rows = WebSocketSession.objects.filter(
            connection_id__in=connection_ids[start : start + GONE_BATCH],
            connected=True,
            connected_at__lt=now - CONNECT_GRACE,
        )
        if notify:
            batch = list(rows.values_list("connection_id", flat=True))
            rows = WebSocketSession.objects.filter(connection_id__in=batch, connected=True)
            marked += batch
        count += rows.update(connected=False, disconnected_at=now)
    session_cache.forget(connection_ids)
    if notify and marked:
        pipeline.notify(hook, connection_ids=marked, source=source)
    return count


def send_now(
    sessions: QuerySet,
    payload: bytes,
    *,
    concurrency: int | None = None,
    progress: Progress | None = None,
) -> SendReport:
    """Post already encoded ``payload`` to the connected ``sessions``; mark the gone ones."""
    report = get_sender(concurrency).send(recipients(sessions), payload, progress=progress)
    mark_gone(report.gone)
    log = logger.warning if report.failed else logger.info
    log("apigw_ws fan-out: %s", report)
    return report
