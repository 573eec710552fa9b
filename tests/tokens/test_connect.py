"""Spending a token on ``$connect``: who it names, when it is refused, and when it stays unspent."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

import apigw_ws
from apigw_ws.contrib.django.models import WebSocketSession, WebSocketToken
from apigw_ws.contrib.django.token_backend import hash_token
from apigw_ws.testing import GatewayClient

from .conftest import TOKEN_URL, fetch_token, session_key, set_tokens, stored_token, unspent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tokens_on")]

INVALID = {"error": "Invalid or expired token"}


def protocols(*entries):
    return {"Sec-WebSocket-Protocol": ", ".join(entries)}


def session_of(conn):
    return WebSocketSession.objects.filter(connection_id=conn.connection_id).first()


def test_query_token_connects_as_its_user_and_is_spent(ws_client, logged_in, user):
    token = fetch_token(logged_in)
    conn = ws_client.connect(query={"ws_token": token})
    assert conn.response.status_code == 200
    assert session_of(conn).user == user
    assert not unspent(token)
    assert "Sec-WebSocket-Protocol" not in conn.response


def test_subprotocol_token_connects_and_the_app_protocol_is_echoed(ws_client, logged_in, user):
    token = fetch_token(logged_in)
    conn = ws_client.connect(headers=protocols("chat.v1", f"apigw_ws.token.{token}"))
    assert conn.response.status_code == 200
    assert conn.response["Sec-WebSocket-Protocol"] == "chat.v1"
    assert session_of(conn).user == user


def test_the_token_entry_may_come_first_and_is_never_echoed(ws_client, logged_in):
    token = fetch_token(logged_in)
    conn = ws_client.connect(headers=protocols(f"apigw_ws.token.{token}", "apigw_ws", "v2"))
    assert conn.response.status_code == 200
    assert conn.response["Sec-WebSocket-Protocol"] == "apigw_ws"


def test_reused_token_is_refused_and_opens_nothing(ws_client, logged_in):
    token = fetch_token(logged_in)
    assert ws_client.connect(query={"ws_token": token}).response.status_code == 200
    again = ws_client.connect(query={"ws_token": token})
    assert again.response.status_code == 403
    assert again.response.json() == INVALID
    assert session_of(again) is None
    assert WebSocketSession.objects.count() == 1


def test_expired_token_is_refused_and_left_unspent(ws_client, logged_in, user):
    token = stored_token(user, session_key(logged_in), expires_in=-1)
    conn = ws_client.connect(query={"ws_token": token})
    assert conn.response.status_code == 403
    assert conn.response.json() == INVALID
    assert unspent(token)
    assert session_of(conn) is None


def test_token_of_another_session_is_refused_and_not_spent(ws_gateway, logged_in, user):
    token = fetch_token(logged_in)
    thief = Client()
    thief.force_login(user)  # the same user, another browser: another session
    stolen = GatewayClient(thief, api_id=ws_gateway.api_id, secret=_secret())
    conn = stolen.connect(query={"ws_token": token})
    assert conn.response.status_code == 403
    assert conn.response.json() == INVALID
    assert unspent(token)
    owner = GatewayClient(logged_in, api_id=ws_gateway.api_id, secret=_secret())
    assert owner.connect(query={"ws_token": token}).response.status_code == 200


def test_token_without_any_session_cookie_is_refused_and_not_spent(ws_gateway, logged_in):
    token = fetch_token(logged_in)
    cookieless = GatewayClient(Client(), api_id=ws_gateway.api_id, secret=_secret())
    conn = cookieless.connect(query={"ws_token": token})
    assert conn.response.status_code == 403
    assert unspent(token)


def test_logout_ends_the_tokens_of_that_session(ws_client, logged_in):
    token = fetch_token(logged_in)
    old_key = session_key(logged_in)
    logged_in.logout()
    # The browser (or a thief) still holding the old cookie: the token matches its binding,
    # but the session no longer has a user.
    conn = ws_client.connect(query={"ws_token": token}, headers={"Cookie": f"sessionid={old_key}"})
    assert conn.response.status_code == 403
    assert unspent(token)


def test_a_password_change_ends_the_tokens_of_other_sessions(ws_client, logged_in, user):
    token = fetch_token(logged_in)
    user.set_password("changed elsewhere")
    user.save()
    conn = ws_client.connect(query={"ws_token": token})
    assert conn.response.status_code == 403
    assert unspent(token)


@pytest.mark.parametrize(
    "token",
    ["", "short", "A" * 42, "A" * 44, "A" * 42 + "!", "A" * 42 + "é", "%00" * 20],
)
def test_malformed_token_is_a_400_without_a_token_query(ws_client, logged_in, token):
    with CaptureQueriesContext(connection) as queries:
        conn = ws_client.connect(query={"ws_token": token})
    assert conn.response.status_code == 400
    assert conn.response.json() == {"error": "Invalid token"}
    assert not any(WebSocketToken._meta.db_table in q["sql"] for q in queries)


def test_absent_token_is_a_401_when_tokens_are_required(ws_client, logged_in):
    conn = ws_client.connect()
    assert conn.response.status_code == 401
    assert conn.response.json() == {"error": "Token required"}
    assert session_of(conn) is None


def test_absent_token_falls_back_to_the_session_when_not_required(
    ws_client, logged_in, user, settings
):
    set_tokens(settings, REQUIRED=False)
    conn = ws_client.connect()
    assert conn.response.status_code == 200
    assert session_of(conn).user == user


def test_two_tokens_are_refused_and_neither_is_spent(ws_client, logged_in):
    first, second = fetch_token(logged_in), fetch_token(logged_in)
    conn = ws_client.connect(
        query={"ws_token": first}, headers=protocols("v1", f"apigw_ws.token.{second}")
    )
    assert conn.response.status_code == 400
    conn = ws_client.connect(
        headers=protocols("v1", f"apigw_ws.token.{first}", f"apigw_ws.token.{second}")
    )
    assert conn.response.status_code == 400
    assert unspent(first)
    assert unspent(second)


def test_token_as_the_only_subprotocol_is_refused_unspent(ws_client, logged_in):
    token = fetch_token(logged_in)
    conn = ws_client.connect(headers=protocols(f"apigw_ws.token.{token}"))
    assert conn.response.status_code == 400
    assert unspent(token)


def test_invalid_channel_and_foreign_origin_are_refused_before_the_token(
    ws_client, logged_in, settings
):
    token = fetch_token(logged_in)
    bad_channel = ws_client.connect(query={"ws_token": token, "channel": "no/slashes"})
    assert bad_channel.response.status_code == 400
    settings.APIGW_WS = {**settings.APIGW_WS, "ALLOWED_ORIGINS": ["https://example.com"]}
    bad_origin = ws_client.connect(
        query={"ws_token": token}, headers={"Origin": "https://evil.example.net"}
    )
    assert bad_origin.response.status_code == 403
    assert unspent(token)


class Gatekeeper:
    """Refuses connects while ``refuse`` is set; records the user each decision saw."""

    def __init__(self):
        self.refuse = True
        self.seen = []

    @apigw_ws.hookimpl
    def apigw_ws_authorize_connect(self, context):
        self.seen.append(context.user)
        return not self.refuse


def test_a_connect_refused_by_authorize_leaves_the_token_unspent(
    ws_client, logged_in, user, ws_plugins
):
    token = fetch_token(logged_in)
    gatekeeper = Gatekeeper()
    ws_plugins.add(gatekeeper, name="gatekeeper")
    conn = ws_client.connect(query={"ws_token": token})
    assert conn.response.status_code == 403
    assert gatekeeper.seen == [user]  # authorize saw the token's user...
    assert unspent(token)  # ...and the refusal rolled the spending back
    gatekeeper.refuse = False
    assert ws_client.connect(query={"ws_token": token}).response.status_code == 200
    assert not unspent(token)


def test_a_duplicate_connection_id_leaves_the_token_unspent(ws_client, logged_in):
    first = ws_client.connect(query={"ws_token": fetch_token(logged_in)})
    token = fetch_token(logged_in)
    again = ws_client.connect(query={"ws_token": token}, connection_id=first.connection_id)
    assert again.response.status_code == 400
    assert unspent(token)


def test_a_user_deactivated_after_issue_cannot_spend_the_token(ws_client, logged_in, user):
    token = fetch_token(logged_in)
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    conn = ws_client.connect(query={"ws_token": token})
    assert conn.response.status_code == 403
    assert unspent(token)


def test_unbound_tokens_need_no_session_cookie(ws_gateway, logged_in, user, settings):
    set_tokens(settings, BIND_SESSION=False)
    token = fetch_token(logged_in)
    assert WebSocketToken.objects.get().session_hash == ""
    native = GatewayClient(Client(), api_id=ws_gateway.api_id, secret=_secret())
    conn = native.connect(query={"ws_token": token})
    assert conn.response.status_code == 200
    assert session_of(conn).user == user


def test_unknown_token_is_refused(ws_client, logged_in):
    conn = ws_client.connect(query={"ws_token": "B" * 43})
    assert conn.response.status_code == 403
    assert conn.response.json() == INVALID


def test_token_url_is_the_token_view_not_a_route(ws_client, logged_in, user, handler_calls):
    # Posted with API Gateway's headers, ws/token still answers as the token view: a
    # fresh token of the logged-in user, and nothing of dispatch (no session, no handler).
    assert reverse("apigw_ws:token") == TOKEN_URL
    response = ws_client.post("token", "abc")
    assert response.status_code == 200
    token = response.json()["token"]
    assert WebSocketToken.objects.get(token_hash=hash_token(token)).user == user
    assert unspent(token)
    assert not WebSocketSession.objects.exists()
    assert handler_calls == []


def _secret():
    from tests.settings import TEST_GATEWAY_SECRET

    return TEST_GATEWAY_SECRET
