"""The built-in token backend: issue single-use connect tokens, spend them on ``$connect``.

A token is 32 random bytes (43 URL-safe characters). The database keeps only an HMAC of
it and of the session key it is bound to, keyed with ``SECRET_KEY``. On connect, every
check that costs no write (format, ambiguity, session cookie, expiry, owner) runs before
the one conditional ``UPDATE`` that spends the token, so exactly one of any number of
concurrent connects with the same token wins.
"""

from __future__ import annotations

import math
import re
import secrets
from datetime import timedelta
from importlib import import_module
from types import SimpleNamespace
from typing import Any

import attrs
from django.conf import settings
from django.contrib.auth import get_user
from django.db.models import Count, Min
from django.http import HttpRequest, parse_cookie
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from apigw_ws import subprotocols
from apigw_ws.context import ConnectContext
from apigw_ws.errors import BadRequest, Forbidden, RequestRefused

from .conf import ws_settings
from .login_binding import lock_user
from .models import WebSocketToken
from .session_ending import end_sessions

__all__ = [
    "ISSUE_WINDOW_SECONDS",
    "QUERY_PARAMETER",
    "DatabaseTokenBackend",
    "IssuedToken",
    "TokenRequired",
    "delete_expired_tokens",
    "end_sessions_without_login",
    "hash_session_key",
    "recent_issue_wait",
    "session_key_from_cookie",
    "session_user",
    "token_from",
]

QUERY_PARAMETER = "ws_token"
TOKEN_BYTES = 32
#: ``secrets.token_urlsafe(32)``: 43 characters of the URL-safe base64 alphabet.
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{43}")
INVALID = "Invalid or expired token"
#: ``TOKENS["MAX_PER_MINUTE"]`` counts the tokens a user was issued in this window.
ISSUE_WINDOW_SECONDS = 60
#: The longest ``Retry-After`` of the table's own count: a token spent by a connect frees
#: its place at once, so a refused page asks again soon rather than at the window's end.
UNSPENT_RETRY_SECONDS = 10


class TokenRequired(RequestRefused):
    """A connect without a token while ``TOKENS["REQUIRED"]`` is on."""

    status = 401
    public = "Token required"


@attrs.frozen
class IssuedToken:
    """A token as handed to the page once; only its HMAC is stored."""

    token: str = attrs.field(repr=False)
    expires_in: int


def _hmac(purpose: str, value: str) -> str:
    return salted_hmac(f"apigw_ws.tokens.{purpose}", value, algorithm="sha256").hexdigest()


def hash_token(token: str) -> str:
    """Return the stored form of ``token``."""
    return _hmac("token", token)


def hash_session_key(session_key: str) -> str:
    """Return the stored form of a Django session key."""
    return _hmac("session", session_key)


def token_from(context: ConnectContext) -> str | None:
    """Return the token a connect carries, or ``None``; refuse a malformed or ambiguous one.

    The token comes from ``?ws_token=`` or from one ``apigw_ws.token.<token>`` subprotocol
    entry. More than one token, a malformed one, or a subprotocol list with nothing to echo
    besides the token are refused with a 400 before the database is asked anything.
    """
    given = list(subprotocols.tokens_in(context.subprotocols))
    from_subprotocol = bool(given)
    if QUERY_PARAMETER in context.query:
        given.append(context.query[QUERY_PARAMETER])
    if not given:
        return None
    if len(given) > 1:
        raise BadRequest(f"connect carries {len(given)} tokens", public="Invalid token")
    token = given[0]
    if not TOKEN_RE.fullmatch(token):
        raise BadRequest(f"malformed token of {len(token)} characters", public="Invalid token")
    if from_subprotocol and context.subprotocol is None:
        raise BadRequest(
            "the subprotocol list has only the token entry: nothing to echo",
            public="Offer an application subprotocol next to the token",
        )
    return token


def session_key_from_cookie(header: str) -> str:
    """Return the Django session key of a ``Cookie`` header, or ``""``."""
    key = parse_cookie(header).get(settings.SESSION_COOKIE_NAME, "")
    return key if key.isprintable() else ""  # NUL: no session has it, PostgreSQL cannot ask


def _session_key(context: ConnectContext) -> str:
    # The browser's Cookie header of the handshake, as API Gateway forwards it.
    return session_key_from_cookie(context.event.header("cookie"))


class DatabaseTokenBackend:
    """Tokens in the ``WebSocketToken`` table; settings are read on every call."""

    def issue(self, request: HttpRequest) -> IssuedToken:
        """Create a token for ``request.user``, bound to its session unless switched off."""
        options = ws_settings.TOKENS
        session_hash = ""
        if options["BIND_SESSION"]:
            session = request.session
            if session.session_key is None:
                session.save()  # e.g. a user authenticated by a header, not a login
            session_hash = hash_session_key(session.session_key)
        token = secrets.token_urlsafe(TOKEN_BYTES)
        now = timezone.now()
        WebSocketToken.objects.create(
            token_hash=hash_token(token),
            session_hash=session_hash,
            user=request.user,
            created_at=now,
            expires_at=now + timedelta(seconds=options["EXPIRY_SECONDS"]),
        )
        return IssuedToken(token=token, expires_in=options["EXPIRY_SECONDS"])

    def authenticate(self, context: ConnectContext) -> Any | None:
        """Return the token's user and spend the token; ``None`` if there is none (optional).

        Refused: a malformed or ambiguous token (400), a missing one when required (401), an
        unknown, spent or expired token, one presented without the session it is bound to,
        or whose session has since logged out, changed password or been deactivated (403).
        Only a token that passes every check is spent.
        """
        options = ws_settings.TOKENS
        token = token_from(context)
        if token is None:
            if options["REQUIRED"]:
                raise TokenRequired("connect without a token")
            return None
        bind = options["BIND_SESSION"]
        session_key = _session_key(context) if bind else ""
        if bind and not session_key:
            raise Forbidden("token connect without a session cookie", public=INVALID)
        found = (
            WebSocketToken.objects.select_related("user")
            .filter(token_hash=hash_token(token))
            .first()
        )
        now = timezone.now()
        if found is None:
            raise Forbidden("unknown token", public=INVALID)
        if found.used_at is not None:
            raise Forbidden(f"token {found.pk} was already used", public=INVALID)
        if found.expires_at <= now:
            raise Forbidden(f"token {found.pk} expired at {found.expires_at}", public=INVALID)
        if bind and not constant_time_compare(found.session_hash, hash_session_key(session_key)):
            raise Forbidden(f"token {found.pk} belongs to another session", public=INVALID)
        # Under the user's lock from here to the session row: a logout or password change
        # waits for this connect's row, or this connect sees the login ended.
        lock_user(found.user_id)
        user = session_user(session_key) if bind else found.user
        if user.pk != found.user_id or not user.is_active:
            raise Forbidden(
                f"token {found.pk}: its session has ended or its user {found.user_id} may no"
                " longer log in",
                public=INVALID,
            )
        spent = WebSocketToken.objects.filter(
            pk=found.pk, used_at__isnull=True, expires_at__gt=now
        ).update(used_at=now)
        if not spent:
            raise Forbidden(f"token {found.pk} was spent by a concurrent connect", public=INVALID)
        return user


def session_user(session_key: str) -> Any:
    """Return the user logged in to the Django session ``session_key``, as Django checks it.

    ``get_user`` verifies the session's auth hash (a password change ends other sessions)
    and asks the auth backend (which refuses inactive users); a flushed session (logout)
    has no user.
    """
    engine = import_module(settings.SESSION_ENGINE)
    return get_user(SimpleNamespace(session=engine.SessionStore(session_key)))


def delete_expired_tokens() -> int:
    """Delete the tokens that can neither be spent nor count against the issue limit."""
    keep_since = timezone.now() - timedelta(seconds=ISSUE_WINDOW_SECONDS)
    deleted, _ = WebSocketToken.objects.filter(expires_at__lt=keep_since).delete()
    return deleted


def recent_issue_wait(user: Any, limit: int) -> int:
    """Return the seconds ``user`` must wait for a token by the table's own count, or 0.

    The fallback when no rate-limit store is configured: one indexed ``COUNT`` of the
    tokens issued in the last ``ISSUE_WINDOW_SECONDS`` and not spent. A token that opened
    a connection no longer counts: 30 tabs of one user that reconnect together each
    spend theirs at once, while a page minting tokens it never uses is held to the
    limit. Concurrent requests can pass it together, so a store is the exact limit.
    The wait is at most ``UNSPENT_RETRY_SECONDS``.
    """
    since = timezone.now() - timedelta(seconds=ISSUE_WINDOW_SECONDS)
    recent = WebSocketToken.objects.filter(
        user=user, created_at__gt=since, used_at__isnull=True
    ).aggregate(count=Count("pk"), oldest=Min("created_at"))
    if recent["count"] < limit:
        return 0
    wait = math.ceil((recent["oldest"] - since).total_seconds())
    return min(max(1, wait), UNSPENT_RETRY_SECONDS)


def end_sessions_without_login() -> int:
    """End the connected sessions whose Django login session no longer exists.

    The bound of login binding for sessions that expire or are deleted (``clearsessions``,
    an admin) without a logout: run by ``ws_cleanup``. Only database-backed session
    engines (``db``, ``cached_db``) can be enumerated; with another engine this ends
    nothing. Return how many sessions were ended.
    """
    from django.contrib.sessions.models import Session
    from django.db import router

    from .models import WebSocketSession

    if settings.SESSION_ENGINE not in (
        "django.contrib.sessions.backends.db",
        "django.contrib.sessions.backends.cached_db",
    ):
        return 0
    bound = WebSocketSession.objects.filter(connected=True).exclude(login_session_hash="")
    hashes = set(bound.values_list("login_session_hash", flat=True))
    if not hashes:
        return 0
    live_keys = Session.objects.filter(expire_date__gt=timezone.now()).values_list(
        "session_key", flat=True
    )
    alive = {hash_session_key(key) for key in live_keys.iterator()} & hashes
    gone = hashes - alive
    if not gone:
        return 0
    return end_sessions(
        bound.filter(login_session_hash__in=gone),
        reason="a login session that no longer exists",
        using=router.db_for_write(WebSocketSession),
    )
