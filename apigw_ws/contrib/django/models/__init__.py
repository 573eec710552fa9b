"""The app's models, one module per idea; import them from here."""

from .gateway import ApiGateway
from .session import WebSocketSession, WebSocketSessionQuerySet

__all__ = ["ApiGateway", "WebSocketSession", "WebSocketSessionQuerySet"]
