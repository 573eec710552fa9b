"""The request pipeline, free of Django: what a connect, a disconnect and a message do, in order.

A front end (the Django view, or a Lambda handler for an ``AWS_PROXY`` integration) builds
an ``Event``, calls :func:`verify_event` before it reads the body, then :func:`connect`,
:func:`disconnect` or :func:`message` with a :class:`SessionStore` (where sessions live:
the Django app's is ``apigw_ws.contrib.django.session_store``) and turns the result or
the refusal into its own response. Every refusal is a ``RequestRefused`` whose
``detail`` is logged and whose ``public`` text is all the client sees.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from . import ratelimits
from .context import ConnectContext, MessageContext
from .errors import BadRequest, Forbidden, NotFound, RequestRefused, UnknownConnection
from .events import Event
from .handlers import DEFAULT_HANDLER, Handler, HandlerRegistry
from .plugins import Plugins
from .protocol import SECRET_HEADER
from .validation import (
    check_api_id,
    check_channel_name,
    check_connection_id,
    check_secret,
    origin_allowed,
    parse_json_object,
)

T = TypeVar("T")

logger = logging.getLogger(__name__)


class Settings(Protocol):
    """The settings the pipeline reads (``apigw_ws.contrib.django.conf.ws_settings`` is one)."""

    MAX_MESSAGE_BYTES: int
    HANDLER_KEY: str
    ALLOWED_ORIGINS: Sequence[str]
    RATE_LIMIT: Mapping[str, Any]


class SessionStore(Protocol):
    """Where a front end keeps gateways and sessions; the pipeline asks it, in order."""

    def gateway(self, api_id: str) -> Any | None:
        """Return the registered, enabled gateway of ``api_id``, or ``None``."""

    def atomic(self, func: Callable[[], T]) -> T:
        """Run ``func`` in one transaction (retried if the store is busy)."""

    def login_user(self, context: ConnectContext) -> Any:
        """Return the user a connect is logged in as without a token (or an anonymous one)."""

    def open_session(self, context: ConnectContext) -> Any:
        """Store the session of an authorized connect and return it (in ``atomic``).

        Raises ``BadRequest`` if the connection id is already known.
        """

    def opened(self, session: Any) -> None:
        """The connect's transaction committed (e.g. cache the session)."""

    def session_for_message(self, connection_id: str, gateway: Any, *, permissions: bool) -> Any:
        """Return the connected session of ``connection_id`` on ``gateway``, or ``None``.

        With ``permissions``, the user's permissions are loaded too.
        """

    def user_of(self, session: Any) -> Any:
        """Return the session's user, or an anonymous one."""

    def close_session(self, connection_id: str, gateway: Any, *, load: bool) -> Any:
        """Mark the session disconnected; return it (``load``), ``True``, ``False`` or ``None``.

        ``None``: no such connection; ``False``: known, but already disconnected; the
        session (when ``load``) or ``True``: marked disconnected now.
        """


class HandlerFailed(Exception):
    """A handler (or a validator or permission check guarding it) raised.

    Raised from the original exception, which stays the ``__cause__``.
    """

    def __init__(self, handler: Handler) -> None:
        super().__init__(f"handler {handler.name!r} on route {handler.route!r} failed")
        self.handler = handler


def verify_event(event: Any, *, secrets: Sequence[str], secret_problem: str = "") -> None:
    """Refuse an event that does not come from a gateway holding our secret.

    Checks, cheapest first: the secret header (when secrets are configured), the api id
    header and the connection id header. The api id is matched against the registered
    gateways by the caller. A ``secret_problem`` (a configured secret that cannot
    authenticate anything, see ``validation.secrets_problem``) refuses every event: a
    broken secret fails closed, never open.
    """
    if secret_problem:
        raise Forbidden(
            f"GATEWAY_SECRET {secret_problem}: every request is refused until it is fixed"
        )
    if secrets:
        check_secret(event.header(SECRET_HEADER), secrets)
    if not event.api_id:
        raise BadRequest("missing X-Amzn-Apigateway-Api-Id header")
    check_api_id(event.api_id)
    if not event.connection_id:
        raise BadRequest("missing Connectionid header")
    check_connection_id(event.connection_id)


def check_route(registry: HandlerRegistry, route_key: str) -> None:
    """Refuse a message route (URL) on which no handler is registered."""
    if route_key not in registry.routes():
        raise NotFound(f"no handler is registered on route {route_key[:80]!r}")


def select_handler(
    registry: HandlerRegistry, route_key: str, body: Mapping[str, Any], handler_key: str
) -> Handler:
    """Return the handler a message names, looked up only in ``registry``.

    A body without ``handler_key`` goes to the route's ``default`` handler. An unknown
    name is refused, never re-routed to ``default``: a typo must be visible.
    """
    name = body.get(handler_key, DEFAULT_HANDLER)
    if not isinstance(name, str):
        raise BadRequest(f"{handler_key!r} is a {type(name).__name__}, not a string")
    handler = registry.get(route_key, name)
    if handler is None:
        raise BadRequest(
            f"no handler {name[:80]!r} on route {route_key!r}", public="Unknown handler"
        )
    return handler


def authorize_connect(plugins: Plugins, context: ConnectContext) -> None:
    """Refuse the connect if any ``apigw_ws_authorize_connect`` implementation says no."""
    votes = plugins.hook.apigw_ws_authorize_connect(context=context)
    if any(vote is False for vote in votes):
        raise Forbidden("an apigw_ws_authorize_connect hook refused the connection")


def run_handler(plugins: Plugins, context: MessageContext, handler: Handler) -> Any:
    """Validate, authorize and run ``handler``; return what it returned.

    Validators run before permission checks, so a permission plugin only ever sees a
    well-formed message; the handler runs only if no validator found a problem and no
    permission hook denied.
    """
    problems = plugins.hook.apigw_ws_validate_message(
        context=context, handler=handler, body=context.body
    )
    flat = [problem for result in problems if result for problem in result]
    if flat:
        raise BadRequest(f"handler {handler.name!r}: {'; '.join(map(str, flat))}")
    votes = plugins.hook.apigw_ws_check_permission(context=context, handler=handler)
    if any(vote is False for vote in votes):
        raise Forbidden(f"permission denied for handler {handler.name!r}")
    return handler.func(context)


def notify(hook: Any, **kwargs: Any) -> int:
    """Call every implementation of the notification ``hook`` on its own; return the failures.

    A plain pluggy call stops at the first implementation that raises, so one broken
    plugin would silence the others. Here each is called in pluggy's order, and each
    failure is logged with the plugin's name and never raised.
    """
    failures = 0
    for impl in reversed(hook.get_hookimpls()):
        if impl.hookwrapper or impl.wrapper:
            continue  # wraps a call that this loop replaces: nothing to wrap
        try:
            impl.function(**{name: kwargs[name] for name in impl.argnames})
        except Exception:
            failures += 1
            logger.exception("apigw_ws: plugin %r raised in %s", impl.plugin_name, hook.name)
    return failures


def registered_gateway(store: SessionStore, event: Event) -> Any:
    """Return the gateway the verified ``event`` came through; refuse an unknown api id."""
    gateway = store.gateway(event.api_id)
    if gateway is None:
        raise Forbidden(f"api id {event.api_id!r} is not a registered, enabled gateway")
    return gateway


def _rate_limit(plugins: Plugins, settings: Settings, key: str) -> None:
    if plugins.rate_limit_store is not None:
        limits = settings.RATE_LIMIT
        ratelimits.enforce(
            plugins.rate_limit_store,
            key,
            limit=limits["MAX_ATTEMPTS"],
            window=limits["WINDOW_SECONDS"],
        )


def connect(
    plugins: Plugins, event: Event, store: SessionStore, settings: Settings, request: Any = None
) -> ConnectContext:
    """Decide a ``$connect`` and store its session; return the decided context.

    In order, cheapest and most probe-resistant first: the rate limit per source IP, the
    ``Origin``, the channel name; then, in one transaction, the token (or the login), the
    rate limit per user, ``apigw_ws_authorize_connect`` and the session itself; then
    ``apigw_ws_on_connect``. A refused attempt still counts against the rate limit, and
    nothing a token backend might spend is touched before the origin and the channel have
    passed; a connect refused after the token was checked leaves the token unspent.
    """
    gateway = registered_gateway(store, event)
    if event.source_ip:
        _rate_limit(plugins, settings, ratelimits.ip_key(event.source_ip))
    origin = event.header("origin")
    if origin and not origin_allowed(
        origin, host=event.header("host"), allowed=settings.ALLOWED_ORIGINS
    ):
        raise Forbidden(f"origin {origin[:200]!r} is not allowed", public="Origin not allowed")
    channel = event.query.get("channel") or gateway.default_channel_name
    if channel:
        check_channel_name(channel)
    asking = ConnectContext(event=event, channel=channel, gateway=gateway, request=request)

    def decide() -> tuple[Any, ConnectContext]:
        user = None
        if plugins.token_backend is not None:
            user = plugins.token_backend.authenticate(asking)
        if user is None:
            user = store.login_user(asking)
        if getattr(user, "is_authenticated", False):
            _rate_limit(plugins, settings, ratelimits.user_key(user.pk))
        context = ConnectContext(
            event=event, channel=channel, user=user, gateway=gateway, request=request
        )
        authorize_connect(plugins, context)
        return store.open_session(context), context

    session, context = store.atomic(decide)
    store.opened(session)
    notify(plugins.hook.apigw_ws_on_connect, session=session)
    return context


def disconnect(plugins: Plugins, event: Event, store: SessionStore) -> None:
    """Mark the session of a ``$disconnect`` disconnected, then ``apigw_ws_on_disconnect``.

    A repeated ``$disconnect`` (API Gateway may send two, or one after logout or a 410
    ended the session) gets the same answer and no second ``apigw_ws_on_disconnect``.
    """
    gateway = registered_gateway(store, event)
    hook = plugins.hook.apigw_ws_on_disconnect
    closed = store.close_session(event.connection_id, gateway, load=bool(hook.get_hookimpls()))
    if closed is None:
        raise UnknownConnection(f"disconnect of unknown connection {event.connection_id!r}")
    if closed is False:
        logger.info("apigw_ws: repeated $disconnect of %r", event.connection_id)
        return
    if closed is not True:
        notify(hook, session=closed)


def message(
    plugins: Plugins, event: Event, store: SessionStore, settings: Settings, request: Any = None
) -> tuple[Handler, Any]:
    """Route a message to its handler and run it; return the handler and what it returned.

    In order: the route, the body (a JSON object within ``MAX_MESSAGE_BYTES``), the
    handler it names, the connected session, then validators, permission checks and the
    handler (:func:`run_handler`). Anything but a ``RequestRefused`` raised from the last
    three is re-raised as :class:`HandlerFailed`.
    """
    gateway = registered_gateway(store, event)
    route_key = event.route_key
    check_route(plugins.registry, route_key)
    body = parse_json_object(event.body, max_bytes=settings.MAX_MESSAGE_BYTES)
    handler = select_handler(plugins.registry, route_key, body, settings.HANDLER_KEY)
    session = store.session_for_message(
        event.connection_id,
        gateway,
        permissions=bool(handler.permissions or handler.all_permissions),
    )
    if session is None:
        raise UnknownConnection(f"no connected session {event.connection_id!r} on this gateway")
    context = MessageContext(
        event=event,
        body=body,
        session=session,
        user=store.user_of(session),
        gateway=gateway,
        request=request,
        sender=session.send_message,
    )
    try:
        return handler, run_handler(plugins, context, handler)
    except RequestRefused:
        raise
    except Exception as exc:
        raise HandlerFailed(handler) from exc
