"""Django as the backend of an AWS API Gateway WebSocket API, extended through plugins.

The public API; everything not exported here may change between releases.
"""

from .__about__ import __version__
from .backends import RateLimitStore, TokenBackend
from .context import ConnectContext, MessageContext, Reply
from .errors import (
    ApigwWsError,
    BadRequest,
    ConfigurationError,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    PluginError,
    RateLimited,
    RequestRefused,
    UnknownConnection,
)
from .events import Event
from .handlers import Handler, HandlerRegistry, handler
from .hooks import hookimpl, hookspec
from .plugins import DEFAULT_PLUGINS, Plugins, load_plugins

__all__ = [
    "DEFAULT_PLUGINS",
    "ApigwWsError",
    "BadRequest",
    "ConfigurationError",
    "ConnectContext",
    "Event",
    "Forbidden",
    "Handler",
    "HandlerRegistry",
    "MessageContext",
    "NotFound",
    "PayloadTooLarge",
    "PluginError",
    "Plugins",
    "RateLimitStore",
    "RateLimited",
    "Reply",
    "RequestRefused",
    "TokenBackend",
    "UnknownConnection",
    "__version__",
    "handler",
    "hookimpl",
    "hookspec",
    "load_plugins",
]
