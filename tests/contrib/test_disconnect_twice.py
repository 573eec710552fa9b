"""A second ``$disconnect`` for the same connection: nothing happens twice.

API Gateway may deliver ``$disconnect`` more than once (a retry after a timeout), and
the local gateway posts one for every socket it closes. The first one ends the session;
a repeat must not fire ``apigw_ws_on_disconnect`` again nor move ``disconnected_at``.

The repeat is answered 200, like the first (idempotent for a known, already
disconnected session); only an id never seen gets 400.
"""

import pytest

import apigw_ws
from apigw_ws.contrib.django.models import WebSocketSession

pytestmark = pytest.mark.django_db


class Disconnects:
    """Records every ``apigw_ws_on_disconnect`` call."""

    def __init__(self):
        self.seen = []

    @apigw_ws.hookimpl
    def apigw_ws_on_disconnect(self, session):
        self.seen.append(session.connection_id)


@pytest.fixture
def disconnects(ws_plugins):
    recorder = Disconnects()
    ws_plugins.add(recorder)
    return recorder


def test_a_second_disconnect_fires_on_disconnect_once_and_keeps_the_first_time(
    ws_client, disconnects
):
    conn = ws_client.connect()
    assert conn.disconnect().status_code == 200
    first = WebSocketSession.objects.get(connection_id=conn.connection_id).disconnected_at
    assert first is not None

    again = conn.disconnect()
    assert again.status_code < 500
    assert disconnects.seen == [conn.connection_id]
    session = WebSocketSession.objects.get(connection_id=conn.connection_id)
    assert not session.connected
    assert session.disconnected_at == first


def test_a_second_disconnect_leaves_the_other_connections_alone(ws_client, disconnects):
    gone, staying = ws_client.connect(), ws_client.connect()
    gone.disconnect()
    gone.disconnect()
    assert disconnects.seen == [gone.connection_id]
    assert WebSocketSession.objects.get(connection_id=staying.connection_id).connected


def test_a_second_disconnect_is_answered_200_like_the_first(ws_client, disconnects):
    conn = ws_client.connect()
    conn.disconnect()
    again = conn.disconnect()
    assert again.status_code == 200
    assert disconnects.seen == [conn.connection_id]


def test_a_disconnect_of_an_id_never_connected_is_refused_and_fires_nothing(ws_client, disconnects):
    response = ws_client.disconnect(connection_id="L0SM9cOFvHcCIhw=")
    assert response.status_code == 400
    assert response.json() == {"error": "Unknown connection"}
    assert disconnects.seen == []
    assert not WebSocketSession.objects.exists()
