"""pytest fixtures for projects and plugins using ``apigw_ws`` (``pytest11`` entry point).

- ``ws_gateway``: a registered ``ApiGateway`` row;
- ``ws_client``: a ``GatewayClient`` bound to it, sending the configured secret;
- ``ws_plugins``: add plugins to, or block plugins from, one test;
- ``ws_outbox``: every message sent to a connection, captured without any network;
- ``ws_network``: let this test's Management API calls reach the network (also a marker);
- ``ws_user``: make a saved user with given permissions.

Every test is isolated, whether or not it asks for ``ws_outbox``: as Django's test
runner swaps in the locmem e-mail backend, this plugin answers every Management API
request of every test from an in-memory ``Outbox``, whatever the transport. A test
that really wants the network (the local gateway on loopback) says so with
``@pytest.mark.ws_network`` or the ``ws_network`` fixture.

They build on pytest-django's ``db`` and ``client``. Django is imported only when a
fixture runs.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest

from .client import TEST_API_ID, GatewayClient, usage_error
from .outbox import Outbox
from .users import make_user

#: The marker (and fixture) by which a test lets its Management API calls reach the network.
NETWORK_MARKER = "ws_network"

#: Credentials isolated tests sign with: never real ones, never sent anywhere.
FAKE_AWS_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


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


class PluginLoader:
    """What ``ws_plugins`` is: plugins added to and blocked from the running test."""

    def __init__(self) -> None:
        self.objects: list[tuple[str, Any]] = []
        self.blocked: list[str] = []
        self._override: Any = None

    def add(self, plugin: Any, name: str | None = None) -> Any:
        """Load ``plugin`` after all others for this test; return the reloaded ``Plugins``.

        ``plugin`` is a module, a class, an instance or a dotted module path. Problems
        with the plugin's hooks are in the result's ``problems``; a dotted path that does
        not import fails the test.
        """
        from apigw_ws.contrib.django import runtime

        if isinstance(plugin, str):
            name = name or plugin
            plugin = _import_plugin(plugin)
        self.objects.append((name or getattr(plugin, "__name__", repr(plugin)), plugin))
        runtime.reset(extra=self.objects)
        return runtime.get_plugins()

    def block(self, *names: str) -> Any:
        """Block plugins by name (as ``APIGW_WS["BLOCKED_PLUGINS"]`` would) for this test."""
        from django.conf import settings
        from django.test.utils import override_settings

        from apigw_ws.contrib.django import runtime

        known = {info.name for info in runtime.get_plugins().infos}
        unknown = sorted(set(names) - known)
        if unknown:
            usage_error(
                f"cannot block {unknown}: no plugin has that name. Loaded plugins:"
                f" {sorted(known)} (an entry point's plugin name is the left side of its"
                " [project.entry-points.apigw_ws] line; a module's is its dotted path)."
            )
        self._restore_settings()
        self.blocked.extend(names)
        current = getattr(settings, "APIGW_WS", {})
        already = list(current.get("BLOCKED_PLUGINS", ()))
        self._override = override_settings(
            APIGW_WS={**current, "BLOCKED_PLUGINS": [*already, *names]}
        )
        self._override.enable()
        return runtime.get_plugins()

    def _restore_settings(self) -> None:
        if self._override is not None:
            self._override.disable()
            self._override = None

    def close(self) -> None:
        from apigw_ws.contrib.django import runtime

        self._restore_settings()
        runtime.reset(extra=())


def _import_plugin(dotted: str) -> Any:
    try:
        return importlib.import_module(dotted)
    except Exception as exc:
        usage_error(
            f"plugin {dotted!r} failed to import: {type(exc).__name__}: {exc}. Check the dotted"
            " path, and that its package is installed in this environment (pip install -e .)."
        )


@pytest.fixture
def ws_plugins() -> Iterator[PluginLoader]:
    """Add or block plugins for one test: ``ws_plugins.add(MyPlugin())``, ``.block("name")``."""
    loader = PluginLoader()
    yield loader
    loader.close()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{NETWORK_MARKER}: let the test's Management API calls reach the network (the local"
        " gateway on loopback) instead of the in-memory outbox",
    )


def wants_network(request: pytest.FixtureRequest) -> bool:
    """Return whether the running test opted out of isolation."""
    return (
        request.node.get_closest_marker(NETWORK_MARKER) is not None
        or NETWORK_MARKER in request.fixturenames
    )


@pytest.fixture(autouse=True)
def _apigw_ws_isolation(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Outbox | None]:
    """Answer every Management API call of the test from an ``Outbox`` (no network)."""
    if wants_network(request):
        yield None
        return
    for name, value in FAKE_AWS_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    outbox = Outbox()
    with outbox.capture():
        yield outbox


@pytest.fixture
def ws_outbox(_apigw_ws_isolation: Outbox | None) -> Outbox:
    """Return the ``Outbox`` capturing every Management API call of the test.

    Unicast, fan-out and background sends all land in it, per connection; it can also
    answer gone (410), throttled (429), too large (413) and forbidden (403).
    """
    if _apigw_ws_isolation is None:
        usage_error(
            f"ws_outbox captures sends, {NETWORK_MARKER} lets them reach the network:"
            " a test can have one or the other"
        )
    return _apigw_ws_isolation


@pytest.fixture
def ws_network() -> None:
    """Let this test's Management API calls reach the network (e.g. the local gateway).

    The same as ``@pytest.mark.ws_network``; without either, every call is answered by
    the in-memory outbox.
    """


@pytest.fixture
def ws_user(db: Any) -> Any:
    """Return a factory: ``ws_user("auth.view_user", username="ann")`` saves a user."""
    return make_user
