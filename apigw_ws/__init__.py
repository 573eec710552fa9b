"""Django as the backend of an AWS API Gateway WebSocket API, extended through plugins.

The public API; everything not exported here may change between releases.
"""

from .__about__ import __version__
from .backends import BacklogStore, RateLimitStore, TokenBackend
from .context import ConnectContext, MessageContext, Reply
from .errors import (
    ApigwWsError,
    BadRequest,
    ConfigurationError,
    Forbidden,
    ManagementApiForbidden,
    MessageNotSerializable,
    MessageTooLarge,
    NotFound,
    PayloadTooLarge,
    PluginError,
    RateLimited,
    RequestRefused,
    SendError,
    ServiceUnavailable,
    UnknownConnection,
)
from .events import Event
from .handlers import Handler, HandlerRegistry, handler
from .hooks import hookimpl, hookspec
from .plugins import DEFAULT_PLUGINS, Plugins, load_plugins
from .recovery import Backlog
from .sending import (
    Endpoint,
    Failure,
    Recipient,
    Sender,
    SendReport,
)

__all__ = [
    "DEFAULT_PLUGINS",
    "ApigwWsError",
    "Backlog",
    "BacklogStore",
    "BadRequest",
    "ConfigurationError",
    "ConnectContext",
    "Endpoint",
    "Event",
    "Failure",
    "Forbidden",
    "Handler",
    "HandlerRegistry",
    "ManagementApiForbidden",
    "MessageContext",
    "MessageNotSerializable",
    "MessageTooLarge",
    "NotFound",
    "PayloadTooLarge",
    "PluginError",
    "Plugins",
    "RateLimitStore",
    "RateLimited",
    "Recipient",
    "Reply",
    "RequestRefused",
    "SendError",
    "SendReport",
    "Sender",
    "ServiceUnavailable",
    "TokenBackend",
    "UnknownConnection",
    "__version__",
    "handler",
    "hookimpl",
    "hookspec",
    "load_plugins",
]
