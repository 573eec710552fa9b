"""ctx.reply() posts through the Management API (moto stands in for AWS here).

moto intercepts botocore only: these tests select the boto3 transport, and let their
calls past the in-memory outbox (``ws_network``) to reach moto, as a moto user would.
"""

from urllib.parse import quote

import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID

from apigw_ws.sending import MessageTooLarge, management_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def aws(monkeypatch, settings, ws_network):
    settings.APIGW_WS = {**settings.APIGW_WS, "SEND_TRANSPORT": "boto3"}
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    management_client.cache_clear()
    with mock_aws():
        yield
    management_client.cache_clear()


def _posted(connection_id):
    from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends

    # moto keys connections by the URL-encoded id from the request path ("=" -> "%3D").
    connections = apigatewaymanagementapi_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].connections
    return connections[quote(connection_id, safe="")].data


def test_reply_posts_the_json_message_to_the_senders_connection(aws, ws_client):
    conn = ws_client.connect()
    response = conn.send({"handler": "say", "text": "héllo"})
    assert response.status_code == 200
    assert _posted(conn.connection_id) == '{"type":"said","text":"héllo"}'.encode()


def test_session_send_message_refuses_oversized_messages_before_any_network_call(aws, ws_client):
    from apigw_ws.contrib.django.models import WebSocketSession

    conn = ws_client.connect()
    session = WebSocketSession.objects.get(connection_id=conn.connection_id)
    with pytest.raises(MessageTooLarge):
        session.send_message({"blob": "x" * 131072})
    assert _posted(conn.connection_id) == b""


def test_management_endpoint_is_the_gateways_stage_on_aws_and_its_client_posts_there(
    aws, ws_gateway
):
    from apigw_ws.contrib.django.models import ApiGateway

    stage = "https://testapi123.execute-api.us-east-1.amazonaws.com/test"
    assert ws_gateway.management_endpoint == stage
    assert ws_gateway.management_client().meta.endpoint_url == stage
    other = ApiGateway(api_name="eu", api_id="euapi45678", stage_name="live", region="eu-west-1")
    assert (
        other.management_endpoint == "https://euapi45678.execute-api.eu-west-1.amazonaws.com/live"
    )
