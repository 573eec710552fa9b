"""Each hook is called at its place in the request flow and its result is honoured."""

import pytest

import apigw_ws
from apigw_ws.contrib.django.models import WebSocketSession

pytestmark = pytest.mark.django_db


class Recorder:
    """A plugin recording the hooks it sees, with switchable answers."""

    def __init__(self, *, allow_connect=None, allow_message=None):
        self.allow_connect = allow_connect
        self.allow_message = allow_message
        self.seen = []

    @apigw_ws.hookimpl
    def apigw_ws_authorize_connect(self, context):
        self.seen.append(("authorize_connect", context.channel, context.connection_id))
        return self.allow_connect

    @apigw_ws.hookimpl
    def apigw_ws_check_permission(self, context, handler):
        self.seen.append(("check_permission", handler.name))
        return self.allow_message

    @apigw_ws.hookimpl
    def apigw_ws_on_connect(self, session):
        self.seen.append(("on_connect", session.connection_id, session.connected))

    @apigw_ws.hookimpl
    def apigw_ws_on_disconnect(self, session):
        self.seen.append(("on_disconnect", session.connection_id, session.connected))


def test_authorize_connect_false_refuses_the_connection_and_writes_no_session(
    ws_client, ws_plugins
):
    recorder = Recorder(allow_connect=False)
    ws_plugins.add(recorder)
    conn = ws_client.connect(channel="lobby")
    assert conn.response.status_code == 403
    assert recorder.seen == [("authorize_connect", "lobby", conn.connection_id)]
    assert not WebSocketSession.objects.exists()


def test_on_connect_and_on_disconnect_see_the_written_session(ws_client, ws_plugins):
    recorder = Recorder(allow_connect=True)
    ws_plugins.add(recorder)
    conn = ws_client.connect()
    conn.disconnect()
    cid = conn.connection_id
    assert recorder.seen[1:] == [("on_connect", cid, True), ("on_disconnect", cid, False)]


def test_a_failing_on_connect_hook_is_logged_and_does_not_refuse(ws_client, ws_plugins, caplog):
    class Broken:
        @apigw_ws.hookimpl
        def apigw_ws_on_connect(self, session):
            raise ValueError("boom")

    ws_plugins.add(Broken())
    assert ws_client.connect().response.status_code == 200
    assert "raised in apigw_ws_on_connect" in caplog.text


def test_a_plugins_deny_refuses_a_public_handler_that_runs_without_it(
    ws_client, ws_plugins, handler_calls
):
    # "default" has no permissions: the built-in plugin abstains and only the
    # third-party vote decides. (A deny winning over the built-in plugin's allow is
    # tests/contrib/test_permission_plugin.py's test_a_third_party_deny_wins_even_when_...)
    conn = ws_client.connect()
    assert conn.send({"text": "hi"}).status_code == 200  # control: nobody denies
    recorder = Recorder(allow_message=False)
    ws_plugins.add(recorder)
    response = conn.send({"text": "hi"})
    assert response.status_code == 403
    assert response.json() == {"error": "Forbidden"}
    assert ("check_permission", "default") in recorder.seen
    assert handler_calls == [("default", conn.connection_id)]  # only the control call


def test_validators_run_before_permission_checks(ws_client, ws_plugins):
    recorder = Recorder()
    ws_plugins.add(recorder)
    conn = ws_client.connect()
    assert conn.send({"handler": "say"}).status_code == 400  # "text" is required
    assert ("check_permission", "say") not in recorder.seen


class Store:
    def __init__(self, wait):
        self.wait = wait
        self.keys = []

    @apigw_ws.hookimpl
    def apigw_ws_rate_limit_store(self):
        return self

    def hit(self, key, *, limit, window):
        self.keys.append((key, limit, window))
        return self.wait


def test_connect_is_refused_with_429_and_retry_after_when_the_store_says_wait(
    ws_client, ws_plugins
):
    store = Store(wait=17)
    ws_plugins.add(store)
    response = ws_client.connect().response
    assert response.status_code == 429
    assert response["Retry-After"] == "17"
    # keyed on the mapped source IP, never on X-Forwarded-For
    assert store.keys == [("connect:ip:203.0.113.7", 20, 60)]
    assert not WebSocketSession.objects.exists()


def test_rate_limit_key_ignores_a_client_chosen_x_forwarded_for(ws_client, ws_plugins):
    store = Store(wait=0)
    ws_plugins.add(store)
    ws_client.connect(headers={"X-Forwarded-For": "1.2.3.4, 203.0.113.7"})
    assert store.keys[0][0] == "connect:ip:203.0.113.7"


def test_token_backend_user_is_bound_to_the_session(ws_client, ws_plugins, django_user_model):
    user = django_user_model.objects.create_user("carol")

    class Tokens:
        @apigw_ws.hookimpl
        def apigw_ws_token_backend(self):
            return self

        def authenticate(self, context):
            return user if context.query.get("ws_token") == "good" else None

    ws_plugins.add(Tokens())
    conn = ws_client.connect(query={"ws_token": "good"})
    assert WebSocketSession.objects.get(connection_id=conn.connection_id).user == user
    assert conn.send({}).json()["user"] == "carol"


def test_a_token_backend_raising_forbidden_refuses_the_connect(ws_client, ws_plugins):
    class Tokens:
        @apigw_ws.hookimpl
        def apigw_ws_token_backend(self):
            return self

        def authenticate(self, context):
            raise apigw_ws.Forbidden("token already used")

    ws_plugins.add(Tokens())
    assert ws_client.connect(query={"ws_token": "spent"}).response.status_code == 403
    assert not WebSocketSession.objects.exists()
