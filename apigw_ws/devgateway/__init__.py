"""A local stand-in for API Gateway's WebSocket data plane and Management API.

Browsers open real WebSockets to it; it posts ``$connect``, messages and ``$disconnect``
to Django with the headers API Gateway sends, and serves ``@connections`` so that boto3
code written for AWS runs unchanged. Needs the ``devgateway`` extra (aiohttp); imports
no Django. ``manage.py ws_devgateway`` runs it for a Django project;
``python -m apigw_ws.devgateway`` runs it without one.
"""

from __future__ import annotations

try:
    import aiohttp  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError(
        "apigw_ws.devgateway needs aiohttp: pip install 'apigw-ws[devgateway]'"
    ) from exc

from apigw_ws.protocol import RouteSelector

from .config import GatewayConfig
from .faults import Faults
from .server import DevGateway
from .threaded import run_in_thread

__all__ = ["DevGateway", "Faults", "GatewayConfig", "RouteSelector", "run_in_thread"]
