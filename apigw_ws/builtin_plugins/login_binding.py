"""Login binding: logout, a password change and deactivation end the user's connections.

A session acts as the user bound at ``$connect`` for as long as it lives; this plugin ends
that binding when the login behind it ends. On Django's ``user_logged_out`` signal, and
when a user row is saved with a new password hash or ``is_active`` turned off, every
connected session of that user is marked disconnected in one ``UPDATE`` (later messages
get 400 "Unknown connection") and, once the transaction commits, closed through the
Management API (``DeleteConnection``) so the browser sees the socket close.

Not seen: changes that bypass ``Model.save()`` (``QuerySet.update()``, raw SQL). Call
:func:`end_user_sessions` yourself there.

The Django app connects the receivers when it is ready (this module imports no Django at
module level); they do nothing while this module is not a loaded plugin.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

logger = logging.getLogger(__name__)

#: Set on a user instance between ``pre_save`` and ``post_save`` when its login changed.
_ENDS_LOGIN = "_apigw_ws_ends_login"
_WATCHED_FIELDS = frozenset({"password", "is_active"})


def end_user_sessions(user: Any, *, reason: str = "", using: str | None = None) -> int:
    """Mark every connected session of ``user`` disconnected now; close them on commit.

    Return how many sessions were marked.
    """
    from django.db import router

    from apigw_ws.contrib.django.models import WebSocketSession

    if user is None or user.pk is None:
        return 0
    db = using or router.db_for_write(WebSocketSession)
    sessions = WebSocketSession.objects.using(db).filter(user_id=user.pk, connected=True)
    return end_sessions(sessions, reason=f"user {user.pk}: {reason}", using=db)


def end_sessions(sessions: Any, *, reason: str, using: str) -> int:
    """Mark the connected ``sessions`` (a queryset) disconnected; close them on commit.

    The one way the package ends sessions that are still open at API Gateway: login
    binding, channel access withdrawn, a login session gone (``ws_cleanup``).
    """
    from django.db import transaction
    from django.utils import timezone

    from apigw_ws.contrib.django.session_cache import forget

    sessions = sessions.filter(connected=True)
    to_close = list(sessions.select_related("api_gateway"))
    marked = sessions.update(connected=False, disconnected_at=timezone.now())
    forget([s.connection_id for s in to_close], using=using)
    if marked:
        logger.info("apigw_ws: ended %d session(s) of %s", marked, reason)
        transaction.on_commit(lambda: close_connections(to_close), using=using, robust=True)
    return marked


def lock_user(user_pk: Any, *, using: str | None = None) -> None:
    """Lock the user's row until the current transaction ends (``SELECT ... FOR UPDATE``).

    The one lock a ``$connect`` (from its login check to its session row) and a logout,
    password change or deactivation (from ending the login to ending the sessions) both
    take, so that whatever the interleaving, one sees what the other did: a connect
    either finds the login ended, or its session row is there to be ended. SQLite has no
    row locks; an ``IMMEDIATE`` transaction (or the writers' lock) serialises the two.
    """
    from django.contrib.auth import get_user_model

    manager = get_user_model()._default_manager
    if using is not None:
        manager = manager.db_manager(using)
    list(manager.select_for_update().filter(pk=user_pk).values_list("pk", flat=True))


def close_connections(sessions: list[Any]) -> None:
    """Close ``sessions`` through the Management API; failures are logged, never raised.

    The one place where login binding reaches API Gateway.
    """
    from apigw_ws.contrib.django.sending import endpoint_for, get_sender
    from apigw_ws.sending import Recipient

    recipients = [Recipient(s.connection_id, endpoint_for(s.api_gateway)) for s in sessions]
    try:
        report = get_sender().close(recipients)
    except Exception:
        logger.exception("apigw_ws: closing %d connection(s) failed", len(recipients))
        return
    for failure in report.failed:
        logger.warning("apigw_ws: could not close a connection: %s", failure.error)


def _plugin_loaded() -> bool:
    from apigw_ws.contrib.django.runtime import get_plugins

    return get_plugins().manager.is_registered(sys.modules[__name__])


def _on_logged_out(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    from django.db import transaction

    if user is None or user.pk is None or not _plugin_loaded():
        return
    # Django sends this signal before it flushes the session: a connect checking the
    # login in between would still find it. So the login ends here, under the user's
    # lock, together with the sessions (see lock_user).
    with transaction.atomic():
        lock_user(user.pk)
        session = getattr(request, "session", None)
        if session is not None and session.session_key:
            session.delete()
        end_user_sessions(user, reason="logged out")


def _before_user_save(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    update_fields = kwargs.get("update_fields")
    if raw or instance._state.adding or instance.pk is None:
        return
    if update_fields is not None and not _WATCHED_FIELDS & set(update_fields):
        return  # e.g. update_last_login: no query on every login
    if not _plugin_loaded():
        return
    stored = (
        sender._default_manager.using(kwargs.get("using"))
        .filter(pk=instance.pk)
        .values_list("password", "is_active")
        .first()
    )
    if stored is None:
        return
    password, was_active = stored
    deactivated = was_active and not getattr(instance, "is_active", True)
    if password != getattr(instance, "password", password) or deactivated:
        setattr(instance, _ENDS_LOGIN, "deactivated" if deactivated else "password changed")


def _after_user_save(sender: Any, instance: Any, **kwargs: Any) -> None:
    reason = instance.__dict__.pop(_ENDS_LOGIN, None)
    if reason:
        end_user_sessions(instance, reason=reason, using=kwargs.get("using"))


def connect_receivers() -> None:
    """Connect the signal receivers (idempotent); called by the Django app's ``ready()``."""
    from django.conf import settings
    from django.contrib.auth.signals import user_logged_out
    from django.db.models.signals import post_save, pre_save

    uid = "apigw_ws.login_binding"
    user_logged_out.connect(_on_logged_out, dispatch_uid=uid)
    # A lazy "app_label.Model" sender: resolved once the user model is loaded.
    pre_save.connect(_before_user_save, sender=settings.AUTH_USER_MODEL, dispatch_uid=uid)
    post_save.connect(_after_user_save, sender=settings.AUTH_USER_MODEL, dispatch_uid=uid)
