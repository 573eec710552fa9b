"""The dispatch view: every request API Gateway makes lands here.

It adapts a Django request into an ``Event``, runs the core pipeline (``apigw_ws.pipeline``)
against the app's session store, and turns results and refusals into responses.
Refusals get a generic JSON body; the detail is logged.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import sys
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

from django.core.exceptions import SuspiciousOperation
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from apigw_ws import pipeline
from apigw_ws.context import Reply
from apigw_ws.errors import BadRequest, PayloadTooLarge, RequestRefused, RetryLater
from apigw_ws.events import CONNECT, DISCONNECT, Event
from apigw_ws.protocol import (
    API_ID_HEADER_LOWER,
    AWS_API_ID_HEADER,
    AWS_API_ID_HEADER_LOWER,
    CONNECTION_ID_HEADER,
    CONNECTION_ID_HEADER_LOWER,
    SOURCE_IP_HEADER_LOWER,
)

from . import busy
from .conf import ws_settings
from .runtime import get_plugins
from .session_store import store

logger = logging.getLogger(__name__)

_UNPREFIXED_HEADERS = {"content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH"}


@functools.lru_cache(maxsize=512)
def _meta_key(name: str) -> str:
    """Return the ``META`` key of a lower-case header name (``""`` for no header)."""
    if not isinstance(name, str) or name != name.lower() or "_" in name:
        return ""  # not a name Django's headers have (they have ``-`` for ``_``)
    return _UNPREFIXED_HEADERS.get(name) or "HTTP_" + name.upper().replace("-", "_")


class MetaHeaders(Mapping[str, str]):
    """A request's headers by lower-case name, read from ``META`` only when asked for.

    The same names and values as ``request.headers``, without building a mapping of
    every header for each request: a message reads four or five of them.
    """

    __slots__ = ("_meta",)

    def __init__(self, meta: Mapping[str, Any]) -> None:
        self._meta = meta

    def __getitem__(self, name: str) -> str:
        return self._meta[_meta_key(name)]

    def get(self, name: str, default: Any = None) -> Any:
        return self._meta.get(_meta_key(name), default)

    def __iter__(self) -> Iterator[str]:
        for key in self._meta:
            if key.startswith("HTTP_"):
                yield key[5:].replace("_", "-").lower()
            elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                yield key.replace("_", "-").lower()

    def __len__(self) -> int:
        return sum(1 for _ in self)


@functools.lru_cache(maxsize=4096)
def _normalized_ip(candidate: str) -> str:
    try:
        return str(ipaddress.ip_address(candidate.strip()))
    except ValueError:
        return ""


def _source_ip(headers: Mapping[str, str], meta: Mapping[str, Any]) -> str:
    # The mapped context.identity.sourceIp; never the client-chosen X-Forwarded-For.
    return _normalized_ip(headers.get(SOURCE_IP_HEADER_LOWER, "")) or _normalized_ip(
        meta.get("REMOTE_ADDR", "")
    )


def event_from_request(request: HttpRequest, route: str) -> Event:
    """Build the immutable ``Event`` of a request's headers; see ``with_payload``."""
    headers = MetaHeaders(request.META)
    return Event(
        route=route,
        connection_id=headers.get(CONNECTION_ID_HEADER_LOWER, ""),
        # The mapped context.apiId where provisioning set it up (AWS may not send its own
        # X-Amzn-Apigateway-Api-Id on $connect); AWS's header otherwise.
        api_id=headers.get(API_ID_HEADER_LOWER) or headers.get(AWS_API_ID_HEADER_LOWER, ""),
        headers=MappingProxyType(headers),
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
        return Event(
            route=event.route,
            connection_id=event.connection_id,
            api_id=event.api_id,
            headers=event.headers,
            query=query,
            body=request.body,
            source_ip=event.source_ip,
        )
    except SuspiciousOperation as exc:  # e.g. too many query fields: bad input, no alert
        raise BadRequest(f"{type(exc).__name__}: {exc}") from None


#: One encoder for every response (``JsonResponse`` makes a new one per call): Django's,
#: so dates, UUIDs and decimals work; the same bytes as ``JsonResponse``.
_ENCODER = DjangoJSONEncoder()


def _json(data: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(_ENCODER.encode(data), status=status, content_type="application/json")


def _refusal(exc: RequestRefused, request: HttpRequest, route: str) -> HttpResponse:
    logger.warning(
        "apigw_ws refused %s %s: %s (api id %r, connection %r)",
        route[:64],
        exc.status,
        exc.detail,
        request.headers.get(AWS_API_ID_HEADER, "")[:64],
        request.headers.get(CONNECTION_ID_HEADER, "")[:140],
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
        plugins = get_plugins()
        if route == CONNECT:
            context = pipeline.connect(plugins, event, store, ws_settings, request)
            response = _json({})
            if context.subprotocol:
                response["Sec-WebSocket-Protocol"] = context.subprotocol
            return response
        if route == DISCONNECT:
            pipeline.disconnect(plugins, event, store)
            return _json({})
        handler, result = pipeline.message(plugins, event, store, ws_settings, request)
        try:
            return _reply(result)
        except Exception:  # what JSON cannot encode
            return _handler_failed(handler)
    except RequestRefused as exc:
        return _refusal(exc, request, route)
    except pipeline.HandlerFailed as exc:
        return _handler_failed(exc.handler)
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
        # outside a handler's own call, which HandlerFailed reports.
        return _internal_error("apigw_ws: plugin code failed on route %r", route[:64])


def _reply(result: Any) -> HttpResponse:
    if isinstance(result, Reply):
        if result.data is None:
            return HttpResponse(status=result.status)
        return _json(result.data, status=result.status)
    return HttpResponse(status=200) if result is None else _json(result)


def _handler_failed(handler: Any) -> HttpResponse:
    # The handler raised or returned what JSON cannot encode, or one of the validators or
    # permission checks that guard it raised.
    return _internal_error(
        "apigw_ws: handler %r on route %r (or a validator or permission check) failed",
        handler.name,
        handler.route,
    )


def _internal_error(message: str, *args: Any) -> HttpResponse:
    """Log the current exception once and answer a generic 500 (503 for a busy database).

    Plugin and handler bugs are reachable by any client, so there is no admin mail and
    nothing of the exception in the response: the detail is only in the log. A locked or
    deadlocked database is no bug: it is a 503 with ``Retry-After``, logged as a warning.
    """
    current = sys.exc_info()[1]
    if isinstance(current, pipeline.HandlerFailed) and current.__cause__ is not None:
        current = current.__cause__
    if current is not None and busy.is_busy(current):
        refusal = busy.unavailable(current)
        logger.warning("apigw_ws refused 503: %s", refusal.detail)
        response = _json({"error": refusal.public}, status=refusal.status)
        response["Retry-After"] = str(refusal.retry_after)
        response._has_been_logged = True
        return response
    logger.exception(message, *args, exc_info=current)
    response = _json({"error": "Internal error"}, status=500)
    response._has_been_logged = True  # Django's log_response would log it again
    return response
