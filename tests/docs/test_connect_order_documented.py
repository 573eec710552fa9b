"""The order of the connect checks on the architecture page is the order the code runs.

The page's request-flow diagram lists the steps of a ``$connect``. ``CONNECT_ORDER`` is
that order as this test proves it: for each pair of neighbouring checks, a connect that
fails both gets the refusal of the one that comes first. The page must show the same
steps in the same order (tokens.rst's "The flow" says it in words).
"""

import re

import pytest

import apigw_ws
from apigw_ws.contrib.django.models import WebSocketSession

from .rst import flat, page

CONNECT_ORDER = [
    "rate limit of the source IP",
    "Origin",
    "channel",
    "user",
    "rate limit of the user",
    "apigw_ws_authorize_connect",
    "INSERT session",
    "apigw_ws_on_connect",
]
BAD_ORIGIN = {"Origin": "https://evil.example"}
BAD_CHANNEL = "no/such channel"
BAD_TOKEN = "x" * 5


def documented_connect_steps():
    diagram = page("architecture")
    lines = diagram[diagram.index("├─ connect ─▶") : diagram.index("├─ disconnect")]
    text = flat(lines.replace("├─ connect ─▶", "").replace("│", ""))
    return [re.sub(r"\s*\(.*?\)", "", step).strip() for step in text.split("▸")]


def test_the_architecture_page_lists_the_connect_steps_in_the_codes_order():
    assert documented_connect_steps() == CONNECT_ORDER


class Refuser:
    @apigw_ws.hookimpl
    def apigw_ws_authorize_connect(self, context):
        return False


@pytest.fixture
def limited(settings, ws_plugins):
    """One connect allowed per key (source IP, user); returns ``ws_plugins``."""
    settings.APIGW_WS = {
        **settings.APIGW_WS,
        "PLUGINS": [*settings.APIGW_WS["PLUGINS"], "apigw_ws.builtin_plugins.ratelimit"],
        "RATE_LIMIT": {"MAX_ATTEMPTS": 1, "WINDOW_SECONDS": 60},
    }
    return ws_plugins


def test_the_source_ip_limit_comes_before_the_origin(ws_client, limited):
    assert ws_client.connect().accepted
    ws_client.connect(headers=BAD_ORIGIN).response.assert_refused(429, "Too many requests")


def test_the_origin_comes_before_the_channel(ws_client, limited):
    conn = ws_client.connect(channel=BAD_CHANNEL, headers=BAD_ORIGIN)
    conn.response.assert_refused(403, "Origin not allowed")


def test_the_channel_comes_before_the_token(ws_client, limited):
    limited.add("apigw_ws.builtin_plugins.tokens")
    conn = ws_client.connect(channel=BAD_CHANNEL, token=BAD_TOKEN)
    conn.response.assert_refused(400, "Invalid channel")


def test_the_user_comes_before_the_users_limit_and_authorize_connect(ws_client, limited):
    limited.add("apigw_ws.builtin_plugins.tokens")
    limited.add(Refuser(), name="refuser")
    conn = ws_client.connect(token=BAD_TOKEN)
    conn.response.assert_refused(400, "Invalid token")


def test_the_users_limit_comes_before_authorize_connect(ws_client, limited, ws_user):
    user = ws_user()
    assert ws_client.connect(user=user).accepted
    limited.add(Refuser(), name="refuser")
    ws_client.source_ip = "198.51.100.9"  # a fresh IP: only the user's limit is reached
    ws_client.connect(user=user).response.assert_refused(429, "Too many requests")


def test_authorize_connect_comes_before_the_session_row(ws_client, limited):
    limited.add(Refuser(), name="refuser")
    conn = ws_client.connect()
    conn.response.assert_refused(403, "Forbidden")
    assert not WebSocketSession.objects.filter(connection_id=conn.connection_id).exists()


def test_on_connect_comes_after_the_session_row(ws_client, limited):
    seen = []

    class Watcher:
        @apigw_ws.hookimpl
        def apigw_ws_on_connect(self, session):
            seen.append(WebSocketSession.objects.filter(pk=session.pk).exists())

    limited.add(Watcher(), name="watcher")
    assert ws_client.connect().accepted
    assert seen == [True]
