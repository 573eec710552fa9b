"""A third-party plugin replaces the built-in token backend through the hook."""

import attrs
import pytest

import apigw_ws
from apigw_ws.contrib.django.models import WebSocketSession, WebSocketToken
from apigw_ws.contrib.django.runtime import get_plugins
from apigw_ws.contrib.django.token_backend import DatabaseTokenBackend

from .conftest import TOKEN_URL

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tokens_on")]


@attrs.frozen
class Issued:
    token: str
    expires_in: int


class StaticTokenBackend:
    """Accepts one fixed token for one user, as a project's own single sign-on might."""

    def __init__(self, user):
        self.user = user
        self.seen = []

    def issue(self, request):
        return Issued(token=f"static-{request.user.pk}", expires_in=5)

    def authenticate(self, context):
        self.seen.append((context.query.get("ws_token"), context.channel))
        if context.query.get("ws_token") == f"static-{self.user.pk}":
            return self.user
        raise apigw_ws.Forbidden("not the static token")


class SwapPlugin:
    def __init__(self, backend):
        self.backend = backend

    @apigw_ws.hookimpl
    def apigw_ws_token_backend(self):
        return self.backend


def test_a_later_plugin_replaces_the_built_in_backend(ws_plugins, ws_client, logged_in, user):
    assert isinstance(get_plugins().token_backend, DatabaseTokenBackend)
    backend = StaticTokenBackend(user)
    plugins = ws_plugins.add(SwapPlugin(backend), name="sso")
    assert plugins.token_backend is backend
    assert logged_in.post(TOKEN_URL).json() == {"token": f"static-{user.pk}", "expires_in": 5}
    conn = ws_client.connect(query={"ws_token": f"static-{user.pk}"}, channel="lobby")
    assert conn.response.status_code == 200
    assert WebSocketSession.objects.get(connection_id=conn.connection_id).user == user
    refused = ws_client.connect(query={"ws_token": "A" * 43})
    assert refused.response.status_code == 403
    assert backend.seen == [(f"static-{user.pk}", "lobby"), ("A" * 43, "")]
    assert not WebSocketToken.objects.exists()  # the built-in backend never ran


class ConnectOnlyBackend:
    def authenticate(self, context):
        return None


def test_a_backend_without_issue_leaves_ws_token_a_404(ws_plugins, logged_in):
    ws_plugins.add(SwapPlugin(ConnectOnlyBackend()), name="connect-only")
    assert logged_in.post(TOKEN_URL).status_code == 404


def test_blocking_the_built_in_plugin_removes_the_backend(settings):
    settings.APIGW_WS = {
        **settings.APIGW_WS,
        "BLOCKED_PLUGINS": ["apigw_ws.builtin_plugins.tokens"],
    }
    assert get_plugins().token_backend is None
