"""The app's models, one module per idea; import them from here."""

from .channels import ChannelPermission
from .connect_token import WebSocketToken
from .fanout import FanOut, FanOutChunk, FanOutStatus
from .gateway import ApiGateway
from .rate_limit_counter import RateLimitCounter
from .recovery import BacklogMessage, ChannelSequence
from .session import WebSocketSession, WebSocketSessionQuerySet

__all__ = [
    "ApiGateway",
    "BacklogMessage",
    "ChannelPermission",
    "ChannelSequence",
    "FanOut",
    "FanOutChunk",
    "FanOutStatus",
    "RateLimitCounter",
    "WebSocketSession",
    "WebSocketSessionQuerySet",
    "WebSocketToken",
]
