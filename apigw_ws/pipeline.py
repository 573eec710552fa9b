"""The request pipeline, free of Django: verify an event, pick a handler, run it.

The Django view feeds it events and database rows; every refusal is a
``RequestRefused`` whose ``detail`` is logged and whose ``public`` text is all the client
sees.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from .context import ConnectContext, MessageContext
from .errors import BadRequest, Forbidden, NotFound
from .handlers import DEFAULT_HANDLER, Handler, HandlerRegistry
from .plugins import Plugins
from .protocol import SECRET_HEADER
from .validation import check_api_id, check_connection_id, check_secret

logger = logging.getLogger(__name__)


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
