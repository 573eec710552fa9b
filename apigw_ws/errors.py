"""The exception hierarchy.

Two families: configuration problems (raised at start-up, shown by system checks) and
request problems (turned into a generic 4xx body; the detail only goes to the log).
"""

from __future__ import annotations


class ApigwWsError(Exception):
    """Base class of every exception this package raises on purpose."""


class ConfigurationError(ApigwWsError):
    """A setting, plugin or handler registration is wrong."""


class GatewayNotFound(ConfigurationError):
    """No ``ApiGateway`` row, or more than one, answers a lookup.

    ``reason`` is ``"unknown"`` (nothing has the key), ``"disabled"`` (the row named is
    disabled), ``"none"`` (no row to pick) or ``"several"`` (no key, and more than one row).
    """

    def __init__(self, message: str, *, reason: str, key: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.key = key


class PluginError(ConfigurationError):
    """A plugin failed to load or registered something invalid."""

    def __init__(self, plugin: str, message: str) -> None:
        super().__init__(f"plugin {plugin!r}: {message}")
        self.plugin = plugin
        self.message = message


class RequestRefused(ApigwWsError):
    """A request is refused; ``public`` goes to the client, ``detail`` to the log only."""

    status = 400
    public = "Bad request"

    def __init__(self, detail: str = "", *, public: str | None = None) -> None:
        super().__init__(detail or self.public)
        self.detail = detail or self.public
        if public is not None:
            self.public = public


class BadRequest(RequestRefused):
    """The request is malformed: headers, connection id, body or handler name."""


class Forbidden(RequestRefused):
    """The request is not from a registered gateway, or the user may not do this."""

    status = 403
    public = "Forbidden"


class UnknownConnection(RequestRefused):
    """The connection id names no connected session of this gateway."""

    public = "Unknown connection"


class PayloadTooLarge(RequestRefused):
    """The inbound body exceeds ``MAX_MESSAGE_BYTES``."""

    status = 413
    public = "Payload too large"


class RetryLater(RequestRefused):
    """A refusal that says when to try again: ``retry_after`` seconds (``Retry-After``)."""

    default_retry_after = 60

    def __init__(self, detail: str = "", *, retry_after: int | None = None) -> None:
        super().__init__(detail)
        self.retry_after = self.default_retry_after if retry_after is None else retry_after


class RateLimited(RetryLater):
    """Too many attempts; ``retry_after`` is in seconds."""

    status = 429
    public = "Too many requests"


class ServiceUnavailable(RetryLater):
    """The database stayed busy (locked, a deadlock) after bounded retries; try again."""

    status = 503
    public = "Service unavailable"
    default_retry_after = 1


class NotFound(RequestRefused):
    """The URL names a route that no handler is registered on."""

    status = 404
    public = "Not found"


class SendError(ApigwWsError):
    """A message could not be delivered; ``report`` says to whom and why."""

    def __init__(self, message: str, report: object = None) -> None:
        super().__init__(message)
        self.report = report


class ManagementApiForbidden(ConfigurationError):
    """The Management API answered 403: the credentials may not post to connections."""

    hint = (
        "Grant the sending role execute-api:ManageConnections on"
        " arn:aws:execute-api:<region>:<account>:<api id>/<stage>/POST/@connections/*"
        " (and GET/DELETE for ws_prune and close()), and check that the endpoint"
        " (APIGW_WS['ENDPOINT_URL'] or the gateway's api id, stage and region) is right."
    )
