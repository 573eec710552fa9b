"""``ws_cleanup`` ends WebSocket sessions whose Django login session no longer exists.

Login binding sees logouts; a session row that expires or is deleted (``clearsessions``,
an admin) sends no signal. The connect stores an HMAC of the login session's key, and
``ws_cleanup`` ends the connected sessions whose key is in no live session row.
"""

import io
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.utils import timezone

from apigw_ws.contrib.django.models import WebSocketSession
from apigw_ws.contrib.django.token_backend import end_sessions_without_login, hash_session_key

pytestmark = pytest.mark.django_db


def _open(ws_client, user):
    conn = ws_client.connect(user=user)
    assert conn.response.status_code == 200
    return conn, conn.http.session.session_key


def _connected(conn):
    return WebSocketSession.objects.get(connection_id=conn.connection_id).connected


def test_the_connect_stores_only_an_hmac_of_the_login_session(ws_client, django_user_model):
    conn, key = _open(ws_client, django_user_model.objects.create_user("a"))
    stored = WebSocketSession.objects.get(connection_id=conn.connection_id).login_session_hash
    assert stored == hash_session_key(key)
    assert key not in stored


def test_an_anonymous_session_has_no_login_to_lose(ws_client):
    conn = ws_client.connect()
    assert WebSocketSession.objects.get(connection_id=conn.connection_id).login_session_hash == ""
    assert end_sessions_without_login() == 0
    assert _connected(conn)


@pytest.mark.parametrize("how", ["deleted", "expired"])
def test_ws_cleanup_ends_sessions_whose_login_is_gone_and_keeps_the_others(
    ws_client, django_user_model, how
):
    gone, gone_key = _open(ws_client, django_user_model.objects.create_user("gone"))
    kept, _ = _open(ws_client, django_user_model.objects.create_user("kept"))
    rows = Session.objects.filter(session_key=gone_key)
    if how == "deleted":
        rows.delete()
    else:
        rows.update(expire_date=timezone.now() - timedelta(seconds=1))
    call_command("ws_cleanup", "--only", "login_sessions", stdout=io.StringIO())
    assert not _connected(gone)
    assert _connected(kept)
    assert gone.send({"text": "hi"}).json() == {"error": "Unknown connection"}


def test_other_session_engines_cannot_be_enumerated_and_end_nothing(
    ws_client, django_user_model, settings
):
    conn, key = _open(ws_client, django_user_model.objects.create_user("c"))
    Session.objects.filter(session_key=key).delete()
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"
    assert end_sessions_without_login() == 0
    assert _connected(conn)
