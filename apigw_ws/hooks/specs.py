"""Hook specifications: the whole contract between ``apigw_ws`` and its plugins.

Every hook name starts with ``apigw_ws_``. A plugin implements any subset, with the
``apigw_ws.hookimpl`` marker; an implementation of a hook that is not listed here makes
the plugin fail to load (``PluginManager.check_pending``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import hookspec

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from ..backends import BacklogStore, RateLimitStore, TokenBackend
    from ..context import ConnectContext, MessageContext
    from ..handlers import Handler


@hookspec
def apigw_ws_register_handlers(register: Callable[..., Any]) -> None:
    """Register this plugin's message handlers.

    Called once per plugin when the plugins are loaded (``AppConfig.ready()``), never per
    request. ``register(func, *, route="$default", name=None, permissions=(),
    all_permissions=(), max_bytes=None, required_keys=(), schema=None)`` adds one handler
    (the options of ``@apigw_ws.handler``); ``func`` may also be a function already
    decorated with ``@apigw_ws.handler(...)``, then ``register(func)`` takes its options
    from the decorator.

    Results: every call of every plugin is collected into one registry. An invalid route or
    name, or a (route, name) pair registered twice, is a configuration error naming the
    plugin (a system-check error), never a silent override.
    """


@hookspec
def apigw_ws_check_permission(context: MessageContext, handler: Handler) -> bool | None:
    """Decide whether ``context.user`` may run ``handler`` with this message.

    Called for every inbound message after the handler was selected and the message
    validated, before the handler runs. Return ``True`` to allow, ``False`` to deny,
    ``None`` to abstain.

    Results: every implementation is called; any ``False`` denies (403) whatever the others
    said; if nobody denies, the message is allowed. The built-in permissions plugin
    enforces the handler's ``permissions`` (any of) and ``all_permissions`` (all of).
    """


@hookspec
def apigw_ws_validate_message(
    context: MessageContext, handler: Handler, body: dict[str, Any]
) -> list[str] | None:
    """Check an inbound message body before any permission check or handler sees it.

    Called for every inbound message once the handler is selected. ``body`` is the parsed
    JSON object. Return a list of problems (short strings, logged, never sent to the
    client) or ``None``/``[]`` when the body is fine.

    Results: the problems of all implementations are concatenated; any problem rejects the
    message with a 400, and the handler is not called.
    """


@hookspec
def apigw_ws_authorize_connect(context: ConnectContext) -> bool | None:
    """Decide whether a ``$connect`` may open a connection.

    Called on ``$connect`` after the request was verified, the rate limit, origin and
    channel checks passed and the token (if any) identified the user, before the session
    row is written. Return ``True`` to allow, ``False`` to refuse, ``None`` to abstain.

    Results: every implementation is called; any ``False`` refuses the connection (403),
    so the WebSocket never opens.
    """


@hookspec(firstresult=True)
def apigw_ws_token_backend() -> TokenBackend | None:
    """Return the token backend that authenticates ``$connect`` requests, or ``None``.

    Called once when the plugins are loaded. The backend's ``authenticate(context)``
    returns the user a connect token names (spending the token), ``None`` when the request
    carries no token, or raises ``apigw_ws.Forbidden`` for a bad one. It runs in the same
    database transaction as ``apigw_ws_authorize_connect`` and the session insert, so a
    connect refused after it rolls back the spending. A backend that also has
    ``issue(request)`` (returning an object with ``token`` and ``expires_in``) is served
    at ``ws/token``.

    Results: first non-``None`` result wins, in plugin order (last registered first, as in
    pluggy); with no backend, connects are anonymous unless the Django session says
    otherwise.
    """


@hookspec(firstresult=True)
def apigw_ws_rate_limit_store() -> RateLimitStore | None:
    """Return the store that counts connect attempts, or ``None`` for no rate limit.

    Called once when the plugins are loaded. The store's ``hit(key, limit=, window=)``
    records one attempt and returns how many seconds the caller must wait (``0`` when the
    attempt is allowed).

    Results: first non-``None`` result wins.
    """


@hookspec
def apigw_ws_on_connect(session: Any) -> None:
    """Notify that a connection opened.

    Called after the ``WebSocketSession`` row of a successful ``$connect`` is written.
    Results: ignored; every implementation is called. An exception is logged and does not
    refuse the connection.
    """


@hookspec
def apigw_ws_on_disconnect(session: Any) -> None:
    """Notify that a connection closed.

    Called after the session row is marked disconnected on ``$disconnect`` (which API
    Gateway delivers best-effort). Results: ignored; an exception is logged.
    """


@hookspec
def apigw_ws_on_sessions_gone(connection_ids: Sequence[str], source: str) -> None:
    """Notify that connections were found gone and their sessions marked disconnected.

    Called once per fan-out or ``ws_prune`` run, after the one bulk ``UPDATE``, with the
    ids of the sessions it marked (never those whose ``$connect`` may still be in
    flight). ``source`` is ``"send"`` (the Management API answered 410 to a post) or
    ``"prune"`` (``GetConnection`` answered 410). Unlike ``apigw_ws_on_disconnect``, no
    session rows are loaded: a broadcast can find thousands gone at once.
    Results: ignored; every implementation is called. An exception is logged.
    """


@hookspec(firstresult=True)
def apigw_ws_backlog_store() -> BacklogStore | None:
    """Return the store that keeps each channel's recent messages, or ``None``.

    Called once per loaded set of plugins, on the first channel send. With a store, every
    message sent to a channel through the package (``send_to_channel``) gets an ``id``,
    the channel's next ``seq`` and ``channel``, and is kept in the store so the built-in
    ``resume`` handler can replay it to a client that reconnects. The built-in recovery
    plugin returns the store ``APIGW_WS["RECOVERY"]["STORE"]`` names.

    Results: first non-``None`` result wins, in plugin order (last registered first), as
    for ``apigw_ws_token_backend``; with no store, channel messages are sent unstamped.
    """
