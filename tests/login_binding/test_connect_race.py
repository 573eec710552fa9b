"""A logout or password change that lands while a ``$connect`` is in flight still ends it.

Real threads on PostgreSQL, each with its own connection. The connect is held inside
``apigw_ws_authorize_connect`` (after its login check, before its session row) until the
logout has returned, or for ``HOLD`` seconds when the logout waits for the connect: the
binding must hold either way. Before the user-row lock, the logout finished inside the
window and the new session lived on as the logged-out user.
"""

import threading

import pytest
from django.db import connections
from django.test import Client

import apigw_ws
from apigw_ws.contrib.django.models import WebSocketSession
from apigw_ws.testing import GatewayClient
from tests.settings import TEST_GATEWAY_SECRET

from .test_login_binding import PLUGIN, bound  # noqa: F401 - the fixture

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

HOLD = 3  # seconds a connect waits for the logout that may be blocked behind it


class Slow:
    """Hold every connect in authorize_connect until ``release`` is set (or ``HOLD`` s)."""

    def __init__(self):
        self.in_flight = threading.Event()
        self.release = threading.Event()

    @apigw_ws.hookimpl
    def apigw_ws_authorize_connect(self, context):
        self.in_flight.set()
        self.release.wait(HOLD)


@pytest.fixture
def racing(bound, settings, ws_plugins):  # noqa: F811
    settings.APIGW_WS = {
        **settings.APIGW_WS,
        "PLUGINS": [*settings.APIGW_WS["PLUGINS"], "apigw_ws.builtin_plugins.tokens"],
    }
    slow = Slow()
    ws_plugins.add(slow)
    return slow


def _in_thread(func, results):
    def run():
        try:
            results.append(func())
        except Exception as exc:  # surfaced by the test's assertions
            results.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _end_login(how, browser, user):
    if how == "password change":
        user.set_password("a-new-password")
        user.save()
    else:
        browser.logout()


@pytest.mark.parametrize("how", ["logout", "password change"])
@pytest.mark.parametrize("with_token", [True, False], ids=["token", "session cookie"])
def test_a_login_ended_during_a_connect_leaves_no_session_acting_as_the_user(
    racing, ws_gateway, django_user_model, settings, how, with_token
):
    user = django_user_model.objects.create_user("racer", password="old-password")
    browser = Client()
    browser.force_login(user)
    gateway = GatewayClient(browser, api_id=ws_gateway.api_id, secret=TEST_GATEWAY_SECRET)
    query = {"ws_token": gateway.fetch_token(browser)} if with_token else {}
    if not with_token:
        settings.APIGW_WS = {**settings.APIGW_WS, "TOKENS": {"REQUIRED": False}}
    connected, ended = [], []
    connect = _in_thread(lambda: gateway.connect(query=query).response, connected)
    assert racing.in_flight.wait(30)

    def end():
        _end_login(how, browser, django_user_model.objects.get(pk=user.pk))
        racing.release.set()

    logout = _in_thread(end, ended)
    connect.join(60)
    logout.join(60)
    assert ended == [None]
    [response] = connected
    assert not isinstance(response, Exception), response
    live = WebSocketSession.objects.filter(connected=True, user=user)
    assert list(live.values_list("connection_id", flat=True)) == []
