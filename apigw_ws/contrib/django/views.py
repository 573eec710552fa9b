"""The dispatch view: every request API Gateway makes lands here.

It adapts a Django request into an ``Event``, runs the core pipeline, and turns results
and refusals into responses. Refusals get a generic JSON body; the detail is logged.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import sys
from collections.abc import Mapping
from typing import Any

import attrs
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import SuspiciousOperation
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, IntegrityError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from apigw_ws import pipeline, ratelimits
from apigw_ws.builtin_plugins.login_binding import lock_user
from apigw_ws.context import ConnectContext, MessageContext, Reply
from apigw_ws.errors import (
    BadRequest,
    Forbidden,
    PayloadTooLarge,
    RequestRefused,
    RetryLater,
    UnknownConnection,
)
from apigw_ws.events import CONNECT, DISCONNECT, Event, route_key_for
from apigw_ws.plugins import Plugins
from apigw_ws.validation import (
    check_channel_name,
    origin_allowed,
    parse_json_object,
    storable_text,
)

from . import busy, session_cache
from .conf import ws_settings
from .gateways import get_gateway
from .models import ApiGateway, WebSocketSession
from .runtime import get_plugins
from .token_backend import hash_session_key, session_key_from_cookie, session_user

logger = logging.getLogger(__name__)

SECRET_HEADER = "x-apigw-ws-secret"


def _headers(meta: Mapping[str, Any]) -> dict[str, str]:
    """Return the request's headers with lower-case names, read from ``META`` in one pass.

    The same names as ``request.headers``, without building its case-insensitive mapping.
    """
    headers = {}
    for key, value in meta.items():
        if key.startswith("HTTP_"):
            headers[key[5:].replace("_", "-").lower()] = value
        elif key in _UNPREFIXED_HEADERS:
            headers[_UNPREFIXED_HEADERS[key]] = value
    return headers


_UNPREFIXED_HEADERS = {"CONTENT_TYPE": "content-type", "CONTENT_LENGTH": "content-length"}


@functools.lru_cache(maxsize=4096)
def _normalized_ip(candidate: str) -> str:
    try:
        return str(ipaddress.ip_address(candidate.strip()))
    except ValueError:
        return ""


def _source_ip(headers: Mapping[str, str], meta: Mapping[str, Any]) -> str:
    # The mapped context.identity.sourceIp; never the client-chosen X-Forwarded-For.
    return _normalized_ip(headers.get("x-apigw-ws-source-ip", "")) or _normalized_ip(
        meta.get("REMOTE_ADDR", "")
    )


def event_from_request(request: HttpRequest, route: str) -> Event:
    """Build the immutable ``Event`` of a request's headers; see ``with_payload``."""
    headers = _headers(request.META)
    return Event(
        route=route,
        connection_id=headers.get("connectionid", ""),
        # The mapped context.apiId where provisioning set it up (AWS may not send its own
        # X-Amzn-Apigateway-Api-Id on $connect); AWS's header otherwise.
        api_id=headers.get("x-apigw-ws-api-id") or headers.get("x-amzn-apigateway-api-id", ""),
        headers=headers,
        source_ip=_source_ip(headers, request.META),
    )


def with_payload(event: Event, request: HttpRequest) -> Event:
    """Return ``event`` with the request's query and body, refusing an oversized body unread."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise BadRequest("malformed Content-Length") from None
    if length > ws_settings.MAX_MESSAGE_BYTES:
        raise PayloadTooLarge(f"Content-Length {length} exceeds {ws_settings.MAX_MESSAGE_BYTES}")
    try:
        query = request.GET.dict() if request.META.get("QUERY_STRING") else {}
        return attrs.evolve(event, query=query, body=request.body)
    except SuspiciousOperation as exc:  # e.g. too many query fields: bad input, no alert
        raise BadRequest(f"{type(exc).__name__}: {exc}") from None


def _json(data: Any, status: int = 200) -> HttpResponse:
    return JsonResponse(data, status=status, encoder=DjangoJSONEncoder, safe=False)


def _refusal(exc: RequestRefused, request: HttpRequest, route: str) -> HttpResponse:
    logger.warning(
        "apigw_ws refused %s %s: %s (api id %r, connection %r)",
        route[:64],
        exc.status,
        exc.detail,
        request.headers.get("X-Amzn-Apigateway-Api-Id", "")[:64],
        request.headers.get("Connectionid", "")[:140],
    )
    response = _json({"error": exc.public}, status=exc.status)
    if isinstance(exc, RetryLater):
        response["Retry-After"] = str(exc.retry_after)
    if exc.status >= 500:
        # A 503 is logged above as a warning: no ERROR on django.request, so no admin mail.
        response._has_been_logged = True
    return response


@csrf_exempt
def dispatch(request: HttpRequest, route: str) -> HttpResponse:
    """Serve ``ws/<route>``: verify the request, then connect, disconnect or dispatch."""
    if request.method != "POST":
        response = _json({"error": "Method not allowed"}, status=405)
        response["Allow"] = "POST"
        return response
    try:
        # Headers first: without the secret, not even the payload's size is looked at.
        event = event_from_request(request, route)
        pipeline.verify_event(
            event, secrets=ws_settings.secrets, secret_problem=ws_settings.secret_problem
        )
        event = with_payload(event, request)
        gateway = get_gateway(event.api_id)
        if gateway is None:
            raise Forbidden(f"api id {event.api_id!r} is not a registered, enabled gateway")
        plugins = get_plugins()
        if route == CONNECT:
            return _connect(plugins, event, gateway, request)
        if route == DISCONNECT:
            return _disconnect(plugins, event, gateway)
        return _message(plugins, event, gateway, request)
    except RequestRefused as exc:
        return _refusal(exc, request, route)
    except DatabaseError as exc:
        # The package's own queries (gateway, session insert or update) or a plugin's.
        return _internal_error(
            "apigw_ws: a database query failed on route %r: %s: %s",
            route[:64],
            type(exc).__name__,
            exc,
        )
    except Exception:
        # A bug in a plugin hook (token backend, rate-limit store, authorize_connect...)
        # outside a handler's own call, which _message reports itself.
        return _internal_error("apigw_ws: plugin code failed on route %r", route[:64])


def _internal_error(message: str, *args: Any) -> HttpResponse:
    """Log the current exception once and answer a generic 500 (503 for a busy database).

    Plugin and handler bugs are reachable by any client, so there is no admin mail and
    nothing of the exception in the response: the detail is only in the log. A locked or
    deadlocked database is no bug: it is a 503 with ``Retry-After``, logged as a warning.
    """
    current = sys.exc_info()[1]
    if current is not None and busy.is_busy(current):
        refusal = busy.unavailable(current)
        logger.warning("apigw_ws refused 503: %s", refusal.detail)
        response = _json({"error": refusal.public}, status=refusal.status)
        response["Retry-After"] = str(refusal.retry_after)
        response._has_been_logged = True
        return response
    logger.exception(message, *args)
    response = _json({"error": "Internal error"}, status=500)
    response._has_been_logged = True  # Django's log_response would log it again
    return response


def _user_for_connect(
    plugins: Plugins, request: HttpRequest, event: Event, channel: str, gateway: ApiGateway
) -> Any:
    if plugins.token_backend is not None:
        context = ConnectContext(event=event, channel=channel, gateway=gateway, request=request)
        user = plugins.token_backend.authenticate(context)
        if user is not None:
            return user
    session = getattr(request, "session", None)
    session_key = getattr(session, "session_key", None)
    if session_key and not session_key.isprintable():
        # NUL in the cookie: PostgreSQL cannot even look it up. No such session exists.
        return AnonymousUser()
    user = getattr(request, "user", None) or AnonymousUser()
    if session_key and getattr(user, "is_authenticated", False):
        # The middleware read the login before the lock: read it again under the lock
        # that logout takes (login_binding.lock_user), or a logout in between is missed.
        lock_user(user.pk)
        if session_user(session_key).pk != user.pk:
            return AnonymousUser()
    return user


def _rate_limit(plugins: Plugins, key: str) -> None:
    if plugins.rate_limit_store is not None:
        limits = ws_settings.RATE_LIMIT
        ratelimits.enforce(
            plugins.rate_limit_store,
            key,
            limit=limits["MAX_ATTEMPTS"],
            window=limits["WINDOW_SECONDS"],
        )


def _connect(
    plugins: Plugins, event: Event, gateway: ApiGateway, request: HttpRequest
) -> HttpResponse:
    # Cheapest and most probe-resistant first: a refused attempt still counts against
    # the rate limit, and nothing a token backend might spend is touched before the
    # origin and the channel have passed.
    if event.source_ip:
        _rate_limit(plugins, ratelimits.ip_key(event.source_ip))
    origin = event.header("origin")
    allowed = ws_settings.ALLOWED_ORIGINS
    if origin and not origin_allowed(origin, host=event.header("host"), allowed=allowed):
        raise Forbidden(f"origin {origin[:200]!r} is not allowed", public="Origin not allowed")
    channel = event.query.get("channel") or gateway.default_channel_name
    if channel:
        check_channel_name(channel)
    # One transaction from the token to the session row: a connect refused after the
    # token was checked (authorize_connect, a duplicate id...) leaves the token unspent,
    # and a busy database runs it again (then 503), never a 500.
    session, context = busy.run_atomic(
        lambda: _open_session(plugins, event, gateway, request, channel)
    )
    session_cache.remember(session)
    pipeline.notify(plugins.hook.apigw_ws_on_connect, session=session)
    response = _json({})
    if context.subprotocol:
        response["Sec-WebSocket-Protocol"] = context.subprotocol
    return response


def _open_session(
    plugins: Plugins, event: Event, gateway: ApiGateway, request: HttpRequest, channel: str
) -> tuple[WebSocketSession, ConnectContext]:
    """Authenticate, authorize and write the session row; run in one transaction."""
    user = _user_for_connect(plugins, request, event, channel, gateway)
    if getattr(user, "is_authenticated", False):
        _rate_limit(plugins, ratelimits.user_key(user.pk))
    context = ConnectContext(
        event=event, channel=channel, user=user, gateway=gateway, request=request
    )
    pipeline.authorize_connect(plugins, context)
    try:
        session = WebSocketSession.objects.create(
            connection_id=event.connection_id,
            api_gateway=gateway,
            channel_name=channel,
            user=user if getattr(user, "is_authenticated", False) else None,
            source_ip=event.source_ip or None,
            user_agent=storable_text(event.header("user-agent"), 255),
            login_session_hash=_login_session_hash(user, event),
        )
    except IntegrityError:
        raise BadRequest(f"connection id {event.connection_id!r} is already known") from None
    return session, context


def _login_session_hash(user: Any, event: Event) -> str:
    key = session_key_from_cookie(event.header("cookie"))
    return hash_session_key(key) if key and getattr(user, "is_authenticated", False) else ""


def _disconnect(plugins: Plugins, event: Event, gateway: ApiGateway) -> HttpResponse:
    known = WebSocketSession.objects.filter(connection_id=event.connection_id, api_gateway=gateway)
    sessions = known.filter(connected=True)
    session = sessions.first() if plugins.hook.apigw_ws_on_disconnect.get_hookimpls() else None
    marked = busy.run_atomic(
        lambda: sessions.update(connected=False, disconnected_at=timezone.now())
    )
    if not marked:
        if known.exists():
            # API Gateway may deliver $disconnect twice, or after logout or a 410 ended
            # the session: the same answer, and no second on_disconnect.
            logger.info("apigw_ws: repeated $disconnect of %r", event.connection_id)
            return _json({})
        raise UnknownConnection(f"disconnect of unknown connection {event.connection_id!r}")
    session_cache.forget([event.connection_id])
    if session is not None:
        session.connected = False
        pipeline.notify(plugins.hook.apigw_ws_on_disconnect, session=session)
    return _json({})


def _message(
    plugins: Plugins, event: Event, gateway: ApiGateway, request: HttpRequest
) -> HttpResponse:
    route_key = route_key_for(event.route)
    pipeline.check_route(plugins.registry, route_key)
    body = parse_json_object(event.body, max_bytes=ws_settings.MAX_MESSAGE_BYTES)
    handler = pipeline.select_handler(plugins.registry, route_key, body, ws_settings.HANDLER_KEY)
    session = session_cache.session_for_message(
        event.connection_id,
        gateway,
        permissions=bool(handler.permissions or handler.all_permissions),
    )
    if session is None:
        raise UnknownConnection(f"no connected session {event.connection_id!r} on this gateway")
    session.api_gateway = gateway  # already loaded: spare the lazy query on reply()
    context = MessageContext(
        event=event,
        body=body,
        session=session,
        user=session.user or AnonymousUser(),
        gateway=gateway,
        request=request,
        sender=session.send_message,
    )
    try:
        result = pipeline.run_handler(plugins, context, handler)
        if isinstance(result, Reply):
            if result.data is None:
                return HttpResponse(status=result.status)
            return _json(result.data, status=result.status)
        return HttpResponse(status=200) if result is None else _json(result)
    except RequestRefused:
        raise
    except Exception:
        # The handler raised or returned what JSON cannot encode, or one of the
        # validators or permission checks that guard it raised.
        return _internal_error(
            "apigw_ws: handler %r on route %r (or a validator or permission check) failed",
            handler.name,
            handler.route,
        )
