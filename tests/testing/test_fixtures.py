"""The pytest fixtures: a gateway client that behaves like API Gateway, plugins per test,
and messages that say what to do when a fixture is used the wrong way."""

import pytest
from django.contrib.auth.models import AnonymousUser

import apigw_ws
from apigw_ws.contrib.django.models import ApiGateway, WebSocketSession
from apigw_ws.contrib.django.runtime import get_plugins
from apigw_ws.testing import GatewayClient
from tests.settings import TEST_GATEWAY_SECRET

Failed = pytest.fail.Exception


@apigw_ws.handler(name="echo.body", route="notes")
def echo_body(ctx):
    return {"body": dict(ctx.body), "route": ctx.route, "user": ctx.user.get_username()}


class NotesPlugin:
    @apigw_ws.hookimpl
    def apigw_ws_register_handlers(self, register):
        register(echo_body)


@pytest.mark.django_db
def test_ws_gateway_is_a_registered_enabled_gateway(ws_gateway):
    assert ApiGateway.objects.get(api_id="testapi123", enabled=True) == ws_gateway


@pytest.mark.django_db
def test_connect_sends_api_gateways_headers_and_the_secret(ws_client):
    headers = ws_client.headers("connect", "L0SM9cOFvHcCIhw=")
    assert headers["X-Apigw-Ws-Secret"] == TEST_GATEWAY_SECRET
    assert headers["X-Apigw-Ws-Route-Key"] == "$connect"
    assert headers["X-Apigw-Ws-Event-Type"] == "CONNECT"
    assert "Sec-WebSocket-Key" in headers
    message = ws_client.headers("default", "L0SM9cOFvHcCIhw=")
    assert message["User-Agent"] == "AmazonAPIGateway_testapi123"
    assert (message["X-Apigw-Ws-Route-Key"], message["X-Apigw-Ws-Event-Type"]) == (
        "$default",
        "MESSAGE",
    )


@pytest.mark.django_db
def test_connect_as_a_user_binds_the_session_and_leaves_the_test_client_logged_out(
    ws_client, ws_user, client
):
    user = ws_user(username="ann")
    conn = ws_client.connect(user=user, channel="lobby")
    assert conn.accepted
    assert (conn.session.user, conn.session.channel_name) == (user, "lobby")
    assert "_auth_user_id" not in client.session
    conn.send("default", {"x": 1}).assert_ok(
        {"echo": {"x": 1, "handler": "default"}, "user": "ann"}
    )


@pytest.mark.django_db
def test_send_by_name_adds_the_handler_and_action_keys_and_picks_the_route(ws_client, ws_plugins):
    ws_plugins.add(NotesPlugin(), name="notes")
    conn = ws_client.connect()
    response = conn.send("echo.body", {"text": "hi"})
    response.assert_ok()
    assert response.data["route"] == "notes"
    assert response.data["body"] == {"text": "hi", "handler": "echo.body", "action": "notes"}


@pytest.mark.django_db
def test_a_raw_body_is_routed_by_its_action_key_like_api_gateway_does(ws_client, ws_plugins):
    ws_plugins.add(NotesPlugin(), name="notes")
    conn = ws_client.connect()
    assert conn.send({"action": "notes", "handler": "echo.body"}).data["route"] == "notes"
    # An action naming no route goes to $default, where echo.body is unknown.
    conn.send({"action": "nope", "handler": "echo.body"}).assert_refused(400, "Unknown handler")


@pytest.mark.django_db
def test_sending_an_unregistered_handler_name_fails_with_what_to_do(ws_client):
    conn = ws_client.connect()
    with pytest.raises(Failed) as failed:
        conn.send("no.such", {})
    message = str(failed.value)
    assert "no handler 'no.such' is registered" in message
    assert "ws_plugins.add" in message
    assert "send({'handler': 'no.such'})" in message


def test_the_client_without_database_access_fails_with_what_to_do(client):
    gateway = GatewayClient(client, api_id="testapi123")
    with pytest.raises(Failed) as failed:
        gateway.connect()
    assert "@pytest.mark.django_db" in str(failed.value)


@pytest.mark.django_db
def test_a_failed_assertion_shows_the_status_body_and_the_servers_reason(ws_client):
    ws_client.secret = "wrong" * 8
    response = ws_client.connect().response
    with pytest.raises(AssertionError) as failed:
        response.assert_ok()
    message = str(failed.value)
    assert 'expected a 2xx answer, got 403 {"error": "Forbidden"}' in message
    assert "apigw_ws log:" in message
    assert "secret" in message


@pytest.mark.django_db
def test_assert_refused_insists_on_a_generic_error_body(ws_client):
    conn = ws_client.connect()
    conn.send({"handler": "nope"}).assert_refused(400, "Unknown handler")
    with pytest.raises(AssertionError):
        conn.send({"handler": "default"}).assert_refused()
    with pytest.raises(AssertionError):
        conn.send({"handler": "nope"}).assert_refused(400, "Forbidden")


@pytest.mark.django_db
def test_disconnect_marks_the_session_disconnected(ws_client):
    conn = ws_client.connect()
    conn.disconnect().assert_ok()
    assert WebSocketSession.objects.get(connection_id=conn.connection_id).connected is False


@pytest.mark.django_db
def test_a_plugin_added_by_dotted_path_loads_for_the_test(ws_plugins):
    plugins = ws_plugins.add("tests.plugins.vip_channels")
    assert "tests.plugins.vip_channels" in {info.name for info in plugins.infos}


def test_a_plugin_path_that_does_not_import_fails_with_what_to_do(ws_plugins):
    with pytest.raises(Failed) as failed:
        ws_plugins.add("tests.plugins.does_not_exist")
    message = str(failed.value)
    assert "ModuleNotFoundError" in message
    assert "pip install -e ." in message


@pytest.mark.django_db
def test_a_blocked_plugin_is_blocked_for_one_test_only(ws_client, ws_plugins):
    plugins = ws_plugins.block("tests.plugins.chat")
    assert {i.name: i.blocked for i in plugins.infos}["tests.plugins.chat"] is True
    # chat was the only plugin with $default handlers: the route is gone.
    ws_client.connect().send({"handler": "say", "text": "x"}).assert_refused(404, "Not found")
    ws_plugins.close()  # what the fixture does after the test
    assert get_plugins().registry.get("$default", "say") is not None


def test_blocking_an_unknown_plugin_name_fails_with_the_loaded_names(ws_plugins):
    with pytest.raises(Failed) as failed:
        ws_plugins.block("chat")
    assert "tests.plugins.chat" in str(failed.value)


@pytest.mark.django_db
def test_ws_user_holds_exactly_the_permissions_asked_for(ws_user):
    user = ws_user("auth.view_user")
    assert user.has_perm("auth.view_user")
    assert not user.has_perm("auth.change_user")
    with pytest.raises(Failed, match=r"app_label\.codename"):
        ws_user("view_user")


@pytest.mark.django_db
def test_permissions_are_enforced_for_a_connected_user(ws_client, ws_user):
    ws_client.connect().send("moderate").assert_refused(403, "Forbidden")
    conn = ws_client.connect(user=ws_user("auth.view_user"))
    conn.send("moderate").assert_ok({"ok": True})
    assert AnonymousUser().has_perm("auth.view_user") is False


@pytest.mark.django_db
def test_connect_with_a_fetched_token_authenticates_the_user(ws_client, ws_plugins, ws_user):
    ws_plugins.add("apigw_ws.builtin_plugins.tokens")
    user = ws_user(username="tia")
    conn = ws_client.connect(user=user, token=True)
    assert conn.accepted
    assert conn.session.user == user
    # Spent, and bound to the first browser's session: a second connect is refused.
    token = conn.response.request["QUERY_STRING"].split("ws_token=")[1]
    ws_client.connect(user=user, token=token).response.assert_refused(403)


@pytest.mark.django_db
def test_fetching_a_token_without_a_user_fails_with_what_to_do(ws_client, ws_plugins):
    ws_plugins.add("apigw_ws.builtin_plugins.tokens")
    with pytest.raises(Failed, match="connect with user="):
        ws_client.connect(token=True)


@pytest.mark.django_db
def test_rate_limits_apply_to_the_clients_source_ip(ws_client, ws_plugins, settings):
    settings.APIGW_WS = {**settings.APIGW_WS, "RATE_LIMIT": {"MAX_ATTEMPTS": 2}}
    ws_plugins.add("apigw_ws.builtin_plugins.ratelimit")
    assert [ws_client.connect().accepted for _ in range(2)] == [True, True]
    refused = ws_client.connect().response.assert_refused(429, "Too many requests")
    assert int(refused["Retry-After"]) > 0
    ws_client.source_ip = "198.51.100.9"  # another client is not affected
    assert ws_client.connect().accepted
