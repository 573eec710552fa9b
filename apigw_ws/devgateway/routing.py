"""Route selection as API Gateway does it: now in ``apigw_ws.protocol``.

The test client selects routes the same way, without aiohttp, so the selector lives in
the wire contract; these names stay importable from here.
"""

from __future__ import annotations

from apigw_ws.protocol import (
    CONNECT_ROUTE,
    DEFAULT_ROUTE,
    DISCONNECT_ROUTE,
    RouteSelector,
)
from apigw_ws.protocol import DEFAULT_ROUTE_SELECTION_EXPRESSION as DEFAULT_EXPRESSION

__all__ = [
    "CONNECT_ROUTE",
    "DEFAULT_EXPRESSION",
    "DEFAULT_ROUTE",
    "DISCONNECT_ROUTE",
    "RouteSelector",
]
