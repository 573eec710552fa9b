"""View mixins that give a template what the WebSocket client needs.

``WebSocketMixin`` adds ``apigw_ws_config`` (the client's options, rendered by
``{% apigw_ws_client %}``) and ``channel_name`` to the context.
``AppChannelWebSocketMixin`` names the channel after the app that defines the view.
"""

from __future__ import annotations

import sys
from typing import Any

from .page_config import app_channel_name, client_config


class WebSocketMixin:
    """Add the WebSocket client's options to a template view's context.

    ``websocket_channel`` is the channel to join (``""``: the gateway's default);
    ``websocket_gateway`` an ``ApiGateway.api_name`` (``None``: the first enabled one);
    ``websocket_url`` overrides the URL; ``websocket_action`` is the default route key
    of the client's sends; ``websocket_options`` are further client options.
    """

    websocket_channel: str = ""
    websocket_gateway: str | None = None
    websocket_url: str | None = None
    websocket_action: str = ""
    websocket_options: dict[str, Any] | None = None

    def get_websocket_channel(self) -> str:
        return self.websocket_channel

    def get_websocket_config(self) -> dict[str, Any]:
        """Return the client options for this request (see ``client_config``)."""
        return client_config(
            getattr(self, "request", None),
            channel=self.get_websocket_channel(),
            url=self.websocket_url,
            gateway=self.websocket_gateway,
            action=self.websocket_action,
            **(self.websocket_options or {}),
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)  # type: ignore[misc]
        config = self.get_websocket_config()
        context["apigw_ws_config"] = config
        context["channel_name"] = config["channel"]
        return context


class AppChannelWebSocketMixin(WebSocketMixin):
    """Use one channel per app: the package of the module that defines the view.

    ``apps.blog.views`` gives the channel ``apps-blog`` (dots are not allowed in channel
    names). ``app_channel_override`` replaces the derived name.
    """

    app_channel_override: str | None = None

    def get_websocket_channel(self) -> str:
        if self.app_channel_override:
            return self.app_channel_override
        module = sys.modules.get(type(self).__module__)
        package = getattr(module, "__package__", None) or type(self).__module__.rpartition(".")[0]
        return app_channel_name(package or type(self).__module__)
