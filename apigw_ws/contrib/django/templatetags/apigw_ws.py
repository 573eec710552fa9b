"""``{% load apigw_ws %}``: put the WebSocket client and its options into a page.

``{% apigw_ws_client %}`` is both of the others: the options as a JSON ``<script>``
element, then the client's ``<script src>``. In the page::

    const ws = ApigwWs.fromElement("apigw-ws-config");

The options come from the ``apigw_ws_config`` context variable the view mixins set,
overridden by the tag's keyword arguments (``channel="lobby"``, ``url=...``,
``gateway="api name"``, ``action="chat"``, any client option).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.templatetags.static import static
from django.utils.html import format_html, json_script
from django.utils.safestring import SafeString

from ..page_config import client_config

register = template.Library()

CONFIG_ELEMENT_ID = "apigw-ws-config"
SCRIPT_PATH = "apigw_ws/apigw_ws.js"


def _config(context: template.Context, overrides: dict[str, Any]) -> dict[str, Any]:
    base = context.get("apigw_ws_config")
    if base is None:
        return client_config(context.get("request"), **overrides)
    # Rebuild from the mixin's options so that an overridden channel is validated too.
    options = {**base, **overrides}
    known = {key: options.pop(key) for key in ("channel", "url", "action") if key in options}
    if "gateway" in overrides:
        known.pop("url", None)
    return client_config(context.get("request"), **known, **options)


@register.simple_tag(takes_context=True)
def apigw_ws_config(
    context: template.Context, element_id: str = CONFIG_ELEMENT_ID, **overrides: Any
) -> SafeString:
    """Render the client's options as ``<script type="application/json" id=...>``."""
    return json_script(_config(context, overrides), element_id)


@register.simple_tag
def apigw_ws_script() -> SafeString:
    """Render the ``<script src>`` of the client (``ApigwWs`` in the page)."""
    return format_html('<script src="{}"></script>', static(SCRIPT_PATH))


@register.simple_tag(takes_context=True)
def apigw_ws_client(
    context: template.Context, element_id: str = CONFIG_ELEMENT_ID, **overrides: Any
) -> SafeString:
    """Render the options and the client's ``<script src>``."""
    config = apigw_ws_config(context, element_id, **overrides)
    return format_html("{}\n{}", config, apigw_ws_script())
