"""The app's models, one module per idea; import them from here."""

from .channels import ChannelPermission
from .fanout import FanOut, FanOutChunk, FanOutStatus
from .gateway import ApiGateway
from .ratelimit import RateLimitCounter
from .recovery import BacklogMessage, ChannelSequence
from .session import WebSocketSession, WebSocketSessionQuerySet
from .tokens import WebSocketToken

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
