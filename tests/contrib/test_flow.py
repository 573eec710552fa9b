"""The request flow end to end through Django: connect, message, disconnect."""

import pytest

from apigw_ws.contrib.django.models import WebSocketSession

pytestmark = pytest.mark.django_db


def test_connect_creates_a_connected_session_in_the_requested_channel(ws_client):
    conn = ws_client.connect(channel="lobby")
    assert conn.response.status_code == 200
    session = WebSocketSession.objects.get(connection_id=conn.connection_id)
    assert session.connected
    assert session.channel_name == "lobby"
    assert session.source_ip == "203.0.113.7"
    assert session.user is None


def test_message_without_handler_key_reaches_the_routes_default_handler(ws_client, handler_calls):
    conn = ws_client.connect()
    response = conn.send({"text": "hi"})
    assert response.status_code == 200
    assert response.json() == {"echo": {"text": "hi"}, "user": None}
    assert handler_calls == [("default", conn.connection_id)]


def test_custom_route_handler_answers_with_its_reply_status(ws_client, handler_calls):
    conn = ws_client.connect(channel="room1")
    response = conn.send({"action": "presence", "handler": "status"}, route="presence")
    assert response.status_code == 202
    assert response.json() == {"channel": "room1"}
    assert handler_calls == [("presence", conn.connection_id)]


def test_disconnect_marks_the_session_disconnected_and_later_messages_are_refused(
    ws_client, handler_calls
):
    conn = ws_client.connect()
    assert conn.disconnect().status_code == 200
    session = WebSocketSession.objects.get(connection_id=conn.connection_id)
    assert not session.connected
    assert session.disconnected_at is not None
    response = conn.send({})
    assert response.status_code == 400
    assert handler_calls == []


def test_logged_in_browser_session_binds_the_user_at_connect(ws_client, client, django_user_model):
    user = django_user_model.objects.create_user("alice", password="pw")
    client.force_login(user)
    conn = ws_client.connect()
    assert WebSocketSession.objects.get(connection_id=conn.connection_id).user == user
    client.logout()  # later messages carry no cookie, as from API Gateway
    assert conn.send({}).json()["user"] == "alice"


def test_the_hot_path_loads_session_and_user_with_python_types(
    ws_client, ws_gateway, client, django_user_model
):
    user = django_user_model.objects.create_user("dora", email="d@example.com")
    client.force_login(user)
    conn = ws_client.connect(channel="lobby")
    session = WebSocketSession.objects.for_message(conn.connection_id, ws_gateway)
    assert session.connected is True
    assert session.connected_at.tzinfo is not None
    assert session.user == user
    assert session.user.date_joined.tzinfo is not None
    assert session.user.is_active is True
    assert session.channel_name == "lobby"
    assert WebSocketSession.objects.for_message("unknown", ws_gateway) is None


def test_the_mapped_api_id_header_is_read_first_and_aws_own_is_the_fallback(ws_client, ws_gateway):
    # Provisioning maps context.apiId to X-Apigw-Ws-Api-Id; AWS may send no
    # X-Amzn-Apigateway-Api-Id on $connect.
    mapped_only = ws_client.connect(
        headers={"X-Amzn-Apigateway-Api-Id": None, "X-Apigw-Ws-Api-Id": ws_gateway.api_id}
    )
    assert mapped_only.response.status_code == 200
    both = ws_client.connect(
        headers={"X-Amzn-Apigateway-Api-Id": "otherapi99", "X-Apigw-Ws-Api-Id": ws_gateway.api_id}
    )
    assert both.response.status_code == 200
    assert WebSocketSession.objects.get(connection_id=both.connection_id).api_gateway == ws_gateway
