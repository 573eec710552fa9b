"""Notification hooks call every implementation, and a repeated ``$disconnect`` is no error.

``apigw_ws_on_connect``, ``apigw_ws_on_disconnect`` and ``apigw_ws_on_sessions_gone``
promise that every implementation is called: one plugin that raises must not silence the
others, and its failure is logged with its name.
"""

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

import apigw_ws
from apigw_ws.contrib.django.models import WebSocketSession
from apigw_ws.contrib.django.sending import mark_gone
from apigw_ws.testing import new_connection_id

pytestmark = pytest.mark.django_db


class Listener:
    def __init__(self, fail=False):
        self.fail = fail
        self.seen = []

    def _note(self, *event):
        self.seen.append(event)
        if self.fail:
            raise RuntimeError("listener bug")

    @apigw_ws.hookimpl
    def apigw_ws_on_connect(self, session):
        self._note("connect", session.connection_id)

    @apigw_ws.hookimpl
    def apigw_ws_on_disconnect(self, session):
        self._note("disconnect", session.connection_id)

    @apigw_ws.hookimpl
    def apigw_ws_on_sessions_gone(self, connection_ids, source):
        self._note("gone", tuple(connection_ids), source)


@pytest.fixture
def listeners(ws_plugins, caplog):
    """Three listeners; the middle one (in either call order) raises."""
    caplog.set_level(logging.INFO, logger="apigw_ws")
    first, broken, last = Listener(), Listener(fail=True), Listener()
    ws_plugins.add(first, name="first")
    ws_plugins.add(broken, name="broken-listener")
    ws_plugins.add(last, name="last")
    return first, broken, last


def _failures(caplog, hook):
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.ERROR and hook in r.getMessage()
    ]


def test_a_raising_on_connect_and_on_disconnect_silences_no_other_plugin(
    ws_client, listeners, caplog
):
    conn = ws_client.connect()
    assert conn.response.status_code == 200
    assert conn.disconnect().status_code == 200
    cid = conn.connection_id
    for listener in listeners:
        assert listener.seen == [("connect", cid), ("disconnect", cid)]
    for hook in ("apigw_ws_on_connect", "apigw_ws_on_disconnect"):
        [message] = _failures(caplog, hook)
        assert "'broken-listener'" in message


def test_a_raising_on_sessions_gone_silences_no_other_plugin(ws_client, listeners, caplog):
    conn = ws_client.connect()
    WebSocketSession.objects.update(connected_at=timezone.now() - timedelta(minutes=5))
    assert mark_gone([conn.connection_id], source="prune") == 1
    for listener in listeners:
        assert listener.seen[-1] == ("gone", (conn.connection_id,), "prune")
    [message] = _failures(caplog, "apigw_ws_on_sessions_gone")
    assert "'broken-listener'" in message


def test_a_repeated_disconnect_of_a_known_session_is_200_and_notifies_once(ws_client, ws_plugins):
    listener = Listener()
    ws_plugins.add(listener)
    conn = ws_client.connect()
    for _ in range(3):
        response = conn.disconnect()
        assert response.status_code == 200, response.content
    assert listener.seen == [("connect", conn.connection_id), ("disconnect", conn.connection_id)]


def test_a_disconnect_after_the_session_was_marked_gone_is_200_without_on_disconnect(
    ws_client, ws_plugins
):
    listener = Listener()
    ws_plugins.add(listener)
    conn = ws_client.connect()
    WebSocketSession.objects.update(connected=False)  # e.g. logout or a 410 ended it
    assert conn.disconnect().status_code == 200
    assert ("disconnect", conn.connection_id) not in listener.seen


def test_a_disconnect_of_a_never_seen_id_is_still_400(ws_client):
    response = ws_client.post("disconnect", new_connection_id())
    assert response.status_code == 400
    assert response.json() == {"error": "Unknown connection"}


def test_a_disconnect_of_a_session_known_on_another_gateway_is_400(ws_client, ws_gateway):
    from apigw_ws.contrib.django.models import ApiGateway

    conn = ws_client.connect()
    other = ApiGateway.objects.create(api_name="other", api_id="otherapi12", stage_name="s")
    ws_client.api_id = other.api_id
    assert conn.disconnect().status_code == 400
    assert WebSocketSession.objects.get().connected
