"""What a page needs to open a WebSocket: the URL, the channel, the token endpoint.

``client_config()`` builds the options of ``ApigwWs.Client`` (``static/apigw_ws/apigw_ws.js``);
the ``{% apigw_ws_config %}`` tag and the view mixins put them into the page.
"""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.urls import NoReverseMatch, reverse

from apigw_ws.errors import ConfigurationError
from apigw_ws.protocol import MAX_FRAME_BYTES
from apigw_ws.recovery import RESUME_HANDLER
from apigw_ws.validation import MAX_CHANNEL_NAME_LENGTH, channel_name_problem

from .conf import ws_settings
from .models import ApiGateway
from .recovery import backlog_store

TOKEN_URL_NAME = "apigw_ws:token"

_NOT_CHANNEL_CHARS = re.compile(r"[^A-Za-z0-9_-]+")


def app_channel_name(package: str) -> str:
    """Return a valid channel name for a Python package or app label.

    Dots (``apps.blog``) become ``-`` (``apps-blog``), any other character a channel name
    cannot hold becomes ``_``, and the result is cut to the column's length.
    """
    name = _NOT_CHANNEL_CHARS.sub("_", package.replace(".", "-")).strip("-_")
    name = name[:MAX_CHANNEL_NAME_LENGTH]
    if not name:
        raise ConfigurationError(f"no channel name can be made of {package!r}")
    return name


#: How ``client_config`` words a gateway it cannot find.
LOOKUP_MESSAGES = {
    "unknown": "no enabled ApiGateway named {key!r}: create one, or pass the WebSocket url",
    "disabled": "no enabled ApiGateway named {key!r}: create one, or pass the WebSocket url",
    "none": "no enabled ApiGateway: create one, or pass the WebSocket url",
}


def websocket_url(gateway: ApiGateway) -> str:
    """Return the URL browsers open for ``gateway`` (``ApiGateway.websocket_url``)."""
    return gateway.websocket_url


def token_url() -> str:
    """Return the path of the token endpoint, or ``""`` where it is not mounted."""
    try:
        return reverse(TOKEN_URL_NAME)
    except NoReverseMatch:
        return ""


def client_config(
    request: HttpRequest | None,
    *,
    channel: str = "",
    url: str | None = None,
    gateway: ApiGateway | str | None = None,
    action: str = "",
    **options: Any,
) -> dict[str, Any]:
    """Return the ``ApigwWs.Client`` options for a page; ``options`` are added as given.

    The URL is ``url`` or the gateway's (a row, an ``api_name``, or the first enabled
    gateway). An invalid ``channel`` raises ``ConfigurationError``: a page must not offer
    a name the server refuses. The CSRF token is included, so the client works when the
    CSRF cookie is ``HttpOnly``.
    """
    if channel:
        problem = channel_name_problem(channel)
        if problem:
            raise ConfigurationError(f"invalid channel name {channel!r}: {problem}")
    if url is None:
        if not isinstance(gateway, ApiGateway):
            gateway = ApiGateway.objects.resolve(
                gateway, by=("api_name",), enabled=True, pick="first", messages=LOOKUP_MESSAGES
            )
        url = gateway.websocket_url
    config: dict[str, Any] = {
        "url": url,
        "channel": channel,
        "tokenUrl": token_url(),
        "handlerKey": ws_settings.HANDLER_KEY,
        "maxMessageBytes": min(ws_settings.MAX_MESSAGE_BYTES, MAX_FRAME_BYTES),
    }
    if action:
        config["action"] = action
    if backlog_store() is not None:
        # Message recovery is on: the client asks for what it missed on every open.
        config["recovery"] = {"handler": RESUME_HANDLER}
    if request is not None:
        config["csrfToken"] = get_token(request)
    config.update(options)
    return config
