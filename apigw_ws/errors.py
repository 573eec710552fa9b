"""The exception hierarchy: every exception a caller of the package may catch.

Four families: configuration problems (raised at start-up, shown by system checks),
request problems (turned into a generic 4xx body; the detail only goes to the log),
sending problems and provisioning problems. The modules that raise them import them
from here; the older paths (``apigw_ws.sending``, ``apigw_ws.provisioning.errors``)
re-export them.
"""

from __future__ import annotations

from typing import Any


class ApigwWsError(Exception):
    """Base class of every exception this package raises on purpose."""


class _AboutOne(ApigwWsError):
    """A problem with one named thing: ``subject``, and ``message`` saying what is wrong."""

    def __init__(self, subject: str, message: str) -> None:
        super().__init__(self.describe(subject, message))
        self.subject = subject
        self.message = message

    @staticmethod
    def describe(subject: str, message: str) -> str:
        return f"{subject}: {message}"


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


class PluginError(_AboutOne, ConfigurationError):
    """A plugin failed to load or registered something invalid; ``plugin`` names it."""

    @staticmethod
    def describe(subject: str, message: str) -> str:
        return f"plugin {subject!r}: {message}"

    @property
    def plugin(self) -> str:
        return self.subject


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


class MessageTooLarge(ApigwWsError, ValueError):
    """An outbound message exceeds the Management API's limit."""


class MessageNotSerializable(ApigwWsError, TypeError):
    """An outbound message is not JSON (an object JSON cannot hold, NaN, a cycle)."""


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


class ProvisioningError(ApigwWsError):
    """Provisioning could not do what was asked; the message says what to fix."""


class InvalidGatewaySpec(_AboutOne, ProvisioningError):
    """The ``ApiGateway`` row or the settings describe a gateway AWS cannot have.

    ``field`` names the row's field, ``reason`` says what is wrong with it.
    """

    @property
    def field(self) -> str:
        return self.subject

    @property
    def reason(self) -> str:
        return self.message


class AwsError(ProvisioningError):
    """AWS refused a call; ``code`` is AWS's error code, ``operation`` the API call."""

    def __init__(self, operation: str, code: str, message: str) -> None:
        super().__init__(message)
        self.operation = operation
        self.code = code


class ApplyIncomplete(ProvisioningError):
    """An apply stopped part-way; ``done`` lists the changes made before the failure.

    Nothing is recorded as applied: running ``apply`` again reads AWS and completes it.
    """

    def __init__(self, done: list[Any], failed: Any, error: ProvisioningError) -> None:
        super().__init__(
            f"{error} (stopped at: {failed}; {len(done)} change(s) made before it."
            " Run apply again to complete.)"
        )
        self.done = done
        self.failed = failed
        self.error = error
