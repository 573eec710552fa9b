"""Test helpers: a client that speaks to the dispatch view as API Gateway does, an outbox
for what the code sends, and (in ``pytest_plugin``) the fixtures built on them."""

from .client import Connection, GatewayClient, Response, gateway_headers, new_connection_id
from .outbox import Call, OutboundMessage, Outbox

__all__ = [
    "Call",
    "Connection",
    "GatewayClient",
    "OutboundMessage",
    "Outbox",
    "Response",
    "gateway_headers",
    "new_connection_id",
]
