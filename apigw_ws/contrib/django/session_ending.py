"""Ending sessions that are still open at API Gateway: marked now, closed once committed.

The one way the package ends such sessions, whoever decides it: login binding (logout, a
password change, deactivation), channel access withdrawn, a login session gone
(``ws_cleanup``). Every connected session is marked disconnected in one ``UPDATE`` (its
later messages get 400 "Unknown connection"), forgotten by the session cache, and, once
the transaction commits, closed through the Management API (``DeleteConnection``) so the
browser sees its socket close. A rolled-back transaction closes nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import router, transaction
from django.utils import timezone

from apigw_ws.sending import Recipient

from .models import WebSocketSession
from .sending.delivery import endpoint_for, get_sender
from .session_cache import forget

__all__ = ["close_connections", "end_sessions", "end_user_sessions"]

logger = logging.getLogger(__name__)


def end_user_sessions(user: Any, *, reason: str = "", using: str | None = None) -> int:
    """Mark every connected session of ``user`` disconnected now; close them on commit.

    Return how many sessions were marked. Call it where a login ends in a way no signal
    reports (``QuerySet.update()``, raw SQL).
    """
    if user is None or user.pk is None:
        return 0
    db = using or router.db_for_write(WebSocketSession)
    sessions = WebSocketSession.objects.using(db).filter(user_id=user.pk, connected=True)
    return end_sessions(sessions, reason=f"user {user.pk}: {reason}", using=db)


def end_sessions(sessions: Any, *, reason: str, using: str) -> int:
    """Mark the connected ``sessions`` (a queryset) disconnected; close them on commit.

    Return how many sessions were marked; ``reason`` goes to the log.
    """
    sessions = sessions.filter(connected=True)
    to_close = list(sessions.select_related("api_gateway"))
    marked = sessions.update(connected=False, disconnected_at=timezone.now())
    forget([s.connection_id for s in to_close], using=using)
    if marked:
        logger.info("apigw_ws: ended %d session(s) of %s", marked, reason)
        transaction.on_commit(lambda: close_connections(to_close), using=using, robust=True)
    return marked


def close_connections(sessions: list[Any]) -> None:
    """Close ``sessions`` through the Management API; failures are logged, never raised."""
    recipients = [Recipient(s.connection_id, endpoint_for(s.api_gateway)) for s in sessions]
    try:
        report = get_sender().close(recipients)
    except Exception:
        logger.exception("apigw_ws: closing %d connection(s) failed", len(recipients))
        return
    for failure in report.failed:
        logger.warning("apigw_ws: could not close a connection: %s", failure.error)
