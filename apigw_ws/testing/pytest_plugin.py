"""pytest fixtures for projects using ``apigw_ws`` (entry point ``apigw_ws`` in ``pytest11``).

Fixtures: ``ws_gateway`` (a registered ``ApiGateway`` row), ``ws_client`` (a
``GatewayClient`` bound to it, sending the configured secret) and ``ws_plugins`` (load
extra plugin objects for one test). Django is imported only when a fixture runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .client import GatewayClient

TEST_API_ID = "testapi123"


@pytest.fixture
def ws_gateway(db: Any) -> Any:
    """Return a registered, enabled ``ApiGateway`` with api id ``testapi123``."""
    from apigw_ws.contrib.django.models import ApiGateway

    return ApiGateway.objects.create(
        api_name="test gateway", api_id=TEST_API_ID, stage_name="test", region="us-east-1"
    )


@pytest.fixture
def ws_client(client: Any, ws_gateway: Any) -> GatewayClient:
    """Return a ``GatewayClient`` that sends the first configured ``GATEWAY_SECRET``."""
    from apigw_ws.contrib.django.conf import ws_settings

    secrets = ws_settings.secrets
    return GatewayClient(client, api_id=ws_gateway.api_id, secret=secrets[0] if secrets else None)


class _PluginLoader:
    def __init__(self) -> None:
        self.objects: list[tuple[str, Any]] = []

    def add(self, plugin: Any, name: str | None = None) -> Any:
        """Load ``plugin`` (a module, class or instance) after all others, for this test."""
        from apigw_ws.contrib.django import runtime

        self.objects.append((name or getattr(plugin, "__name__", repr(plugin)), plugin))
        runtime.reset(extra=self.objects)
        return runtime.get_plugins()


@pytest.fixture
def ws_plugins() -> Iterator[_PluginLoader]:
    """Register extra plugins for one test: ``ws_plugins.add(MyPlugin())``."""
    from apigw_ws.contrib.django import runtime

    loader = _PluginLoader()
    yield loader
    runtime.reset(extra=())
