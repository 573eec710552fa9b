"""The Django app's ``SessionStore``: gateways and sessions in the database (and cache).

``apigw_ws.pipeline`` decides every connect, disconnect and message against this; the
dispatch view only adapts Django's request and response around it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError
from django.utils import timezone

from apigw_ws.context import ConnectContext
from apigw_ws.errors import BadRequest
from apigw_ws.validation import storable_text

from . import busy, session_cache
from .gateways import get_gateway
from .login_binding import lock_user
from .models import WebSocketSession
from .token_backend import hash_session_key, session_key_from_cookie, session_user

T = TypeVar("T")


class DjangoSessionStore:
    """Sessions as ``WebSocketSession`` rows, read through ``SESSION_CACHE`` when set."""

    def gateway(self, api_id: str) -> Any | None:
        return get_gateway(api_id)

    def atomic(self, func: Callable[[], T]) -> T:
        # A busy database runs it again (then 503), never a 500.
        return busy.run_atomic(func)

    def login_user(self, context: ConnectContext) -> Any:
        """The user of the Django login the connect's cookie carries, read under its lock."""
        request = context.request
        session = getattr(request, "session", None)
        session_key = getattr(session, "session_key", None)
        if session_key and not session_key.isprintable():
            # NUL in the cookie: PostgreSQL cannot even look it up. No such session exists.
            return AnonymousUser()
        user = getattr(request, "user", None) or AnonymousUser()
        if session_key and getattr(user, "is_authenticated", False):
            # The middleware read the login before the lock: read it again under the lock
            # that logout takes (lock_user), or a logout in between is missed.
            lock_user(user.pk)
            if session_user(session_key).pk != user.pk:
                return AnonymousUser()
        return user

    def open_session(self, context: ConnectContext) -> WebSocketSession:
        event, user = context.event, context.user
        authenticated = getattr(user, "is_authenticated", False)
        key = session_key_from_cookie(event.header("cookie")) if authenticated else None
        try:
            return WebSocketSession.objects.create(
                connection_id=event.connection_id,
                api_gateway=context.gateway,
                channel_name=context.channel,
                user=user if authenticated else None,
                source_ip=event.source_ip or None,
                user_agent=storable_text(event.header("user-agent"), 255),
                login_session_hash=hash_session_key(key) if key else "",
            )
        except IntegrityError:
            raise BadRequest(f"connection id {event.connection_id!r} is already known") from None

    def opened(self, session: WebSocketSession) -> None:
        session_cache.remember(session)

    def session_for_message(
        self, connection_id: str, gateway: Any, *, permissions: bool
    ) -> WebSocketSession | None:
        return session_cache.session_for_message(connection_id, gateway, permissions=permissions)

    def user_of(self, session: WebSocketSession) -> Any:
        return session.user or AnonymousUser()

    def close_session(self, connection_id: str, gateway: Any, *, load: bool) -> Any:
        known = WebSocketSession.objects.filter(connection_id=connection_id, api_gateway=gateway)
        sessions = known.filter(connected=True)
        session = sessions.first() if load else None
        marked = busy.run_atomic(
            lambda: sessions.update(connected=False, disconnected_at=timezone.now())
        )
        if not marked:
            return False if known.exists() else None
        session_cache.forget([connection_id])
        if session is None:
            return True
        session.connected = False
        return session


store = DjangoSessionStore()
