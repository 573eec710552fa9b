"""Test helpers: a client that speaks to the dispatch view as API Gateway does, and fixtures."""

from .client import Connection, GatewayClient, new_connection_id

__all__ = ["Connection", "GatewayClient", "new_connection_id"]
