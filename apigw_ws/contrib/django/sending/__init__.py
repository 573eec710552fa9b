"""Sending to sessions from Django: querysets in, reports out.

The public helpers: a queryset, a user, a channel or everyone; one session (unicast and
close). Each encodes and size-checks the message, then sends it now (``delivery``: the
core ``Sender`` posts to the sessions streamed from the database and the gone ones are
marked in one bulk ``UPDATE``), defers the send to ``on_commit`` or hands it to Django's
Tasks framework in chunks (``apigw_ws.contrib.django.fanout``).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import QuerySet

from apigw_ws.errors import ManagementApiForbidden, SendError
from apigw_ws.sending import (
    MessageNotSerializable,
    Progress,
    Recipient,
    SendReport,
    encode_message,
)

from ..conf import ws_settings

# Also the names the rest of the app has imported from here (commands, admin actions).
from .delivery import (  # noqa: F401
    CONNECT_GRACE,
    GONE_BATCH,
    READ_CHUNK,
    connected_pks,
    connected_rows,
    endpoint_for,
    get_sender,
    mark_gone,
    recipients,
    send_now,
)

if TYPE_CHECKING:
    from ..models import ApiGateway, WebSocketSession

#: Sessions per background task.
TASK_CHUNK = 1000


def send_to_sessions(
    sessions: QuerySet,
    data: Any,
    *,
    concurrency: int | None = None,
    on_commit: bool = False,
    background: bool = False,
    chunk_size: int = TASK_CHUNK,
    progress: Progress | None = None,
) -> Any:
    """Send ``data`` to every connected session in ``sessions``.

    ``data`` is encoded and size-checked first, so bad data raises here whatever the
    mode. Returns the ``SendReport``; with ``background=True`` the list of enqueued
    task results instead (one task per ``chunk_size`` sessions); with ``on_commit=True``
    ``None``, the send happening once the current transaction commits (at once outside
    a transaction).
    """
    payload = encode_message(data, max_bytes=ws_settings.MAX_MESSAGE_BYTES)
    if background:
        try:
            text = payload.decode()
        except UnicodeDecodeError:
            raise MessageNotSerializable("background sends take text, not binary data") from None
        run = partial(enqueue_chunks, sessions, text, chunk_size=chunk_size)
    else:
        run = partial(send_now, sessions, payload, concurrency=concurrency, progress=progress)
    if on_commit:
        transaction.on_commit(run, using=sessions.db)
        return None
    return run()


def enqueue_chunks(sessions: QuerySet, text: str, *, chunk_size: int = TASK_CHUNK) -> list[Any]:
    """Record a background fan-out (``FanOut``) and enqueue one task per ``chunk_size`` sessions.

    Returns the task results; their ``.fanout`` is the record.
    """
    from ..fanout import start_fanout

    return start_fanout(sessions, text, chunk_size=chunk_size)


def send_to_user(user: Any, data: Any, **options: Any) -> Any:
    """Send ``data`` to every connected session of ``user``."""
    from ..models import WebSocketSession

    return send_to_sessions(WebSocketSession.objects.filter(user=user), data, **options)


def send_to_channel(
    channel_name: str, data: Any, *, gateway: ApiGateway | None = None, **options: Any
) -> Any:
    """Send ``data`` to every connected session in ``channel_name`` (of ``gateway``)."""
    from ..models import WebSocketSession
    from ..recovery import stamp_channel_message

    # Message recovery: id/seq/channel stamp and backlog, when a backlog store is loaded.
    data = stamp_channel_message(channel_name, data)
    sessions = WebSocketSession.objects.filter(channel_name=channel_name)
    if gateway is not None:
        sessions = sessions.filter(api_gateway=gateway)
    return send_to_sessions(sessions, data, **options)


def broadcast(data: Any, *, gateway: ApiGateway | None = None, **options: Any) -> Any:
    """Send ``data`` to every connected session (of ``gateway``)."""
    from ..models import WebSocketSession

    sessions = WebSocketSession.objects.all()
    if gateway is not None:
        sessions = sessions.filter(api_gateway=gateway)
    return send_to_sessions(sessions, data, **options)


def send_one(session: WebSocketSession, data: Any) -> bool:
    """Post ``data`` to one session; return ``False`` if it is gone (and mark it).

    Raises ``ManagementApiForbidden`` on a 403 and ``SendError`` on any other failure.
    """
    payload = encode_message(data, max_bytes=ws_settings.MAX_MESSAGE_BYTES)
    recipient = Recipient(session.connection_id, endpoint_for(session.api_gateway))
    report = get_sender(1).send([recipient], payload)
    return _unicast_outcome(session, report)


def close(session: WebSocketSession) -> bool:
    """Close ``session``'s connection (``DeleteConnection``); ``False`` if already gone.

    The gateway then posts ``$disconnect``, which marks the session disconnected.
    """
    recipient = Recipient(session.connection_id, endpoint_for(session.api_gateway))
    return _unicast_outcome(session, get_sender(1).close([recipient]))


def _unicast_outcome(session: WebSocketSession, report: SendReport) -> bool:
    if report.gone:
        if mark_gone(report.gone):
            session.connected = False
        return False
    if report.failed:
        failure = report.failed[0]
        if failure.status == 403:
            raise ManagementApiForbidden(failure.error)
        raise SendError(f"could not send to {session.connection_id}: {failure.error}", report)
    return True
