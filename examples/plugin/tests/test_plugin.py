"""The example plugin through the dispatch view, with apigw_ws's fixtures and strategies.

Every fixture (``ws_client``, ``ws_user``, ``ws_outbox``, ``ws_plugins``) and the
strategies (``bodies_for``, ``hostile_bodies``, ``malformed_requests``, ``users``) in
use, and the properties worth testing in any plugin: never a 5xx, validators reject
before anything else sees the message, a denied permission never runs the handler.
"""

from importlib import metadata

import pytest
from apigw_ws_example import plugin
from apigw_ws_example.plugin import add_note
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import apigw_ws
from apigw_ws.testing import strategies as ws_st
from tests.settings import TEST_SECRET

pytestmark = pytest.mark.django_db

# ws_client is function-scoped: every example shares one test's database transaction.
examples = settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


class Spy:
    """Records which messages got past validation to the permission checks."""

    def __init__(self):
        self.seen = []

    @apigw_ws.hookimpl
    def apigw_ws_check_permission(self, context, handler):
        self.seen.append(handler.name)


def test_the_plugin_is_installed_under_its_entry_point():
    (entry_point,) = metadata.entry_points(group="apigw_ws", name="example")
    assert entry_point.value == "apigw_ws_example.plugin"


def test_echo_returns_the_message(ws_client):
    conn = ws_client.connect()
    conn.send("echo", {"text": "hi"}).assert_ok({"echo": {"text": "hi", "handler": "echo"}})


def test_whoami_names_the_connected_user_and_channel(ws_client, ws_user):
    conn = ws_client.connect(user=ws_user(username="ada"), channel="lobby")
    conn.send("whoami").assert_ok({"user": "ada", "channel": "lobby"})


@examples
@given(user=ws_st.users(["auth.view_user"], is_active=st.booleans()))
def test_user_count_needs_an_active_user_with_view_user(ws_client, user):
    response = ws_client.connect(user=user).send("user_count")
    if user.is_active:
        response.assert_ok()
    else:
        response.assert_refused(403, "Forbidden")


def test_a_denied_permission_never_runs_the_handler(ws_client, ws_user, monkeypatch):
    # user_count's first step is get_user_model(): count the calls to see it run.
    runs = []
    real = plugin.get_user_model
    monkeypatch.setattr(plugin, "get_user_model", lambda: runs.append("ran") or real())
    ws_client.connect().send("user_count").assert_refused(403, "Forbidden")
    assert runs == []
    allowed = ws_client.connect(user=ws_user("auth.view_user"))
    allowed.send("user_count").assert_ok({"users": 1})  # control: the spy sees a real run
    assert runs == ["ran"]


@examples
@given(body=ws_st.bodies_for(add_note))
def test_add_signs_every_note_or_refuses_a_blank_one(ws_client, body):
    response = ws_client.connect().send(body)
    if isinstance(body["text"], str) and body["text"].strip():
        response.assert_ok({"note": body["text"].strip(), "by": "anonymous"})
    else:
        response.assert_refused(400, "Bad request")


@pytest.mark.parametrize("text", ["", "  ", 42, None])
def test_validators_reject_before_anything_else_sees_the_message(ws_client, ws_plugins, text):
    spy = Spy()
    ws_plugins.add(spy)
    conn = ws_client.connect()
    conn.send("add", {"text": text}).assert_refused(400)
    assert spy.seen == []
    conn.send("add", {"text": "fine"}).assert_ok()
    assert spy.seen == ["add"]


def test_share_sends_the_note_to_the_channel_only(ws_client, ws_user, ws_outbox):
    ada = ws_client.connect(user=ws_user(username="ada"), channel="lobby")
    bob = ws_client.connect(channel="lobby")
    elsewhere = ws_client.connect(channel="kitchen")
    ada.send("share", {"text": "hi all"}).assert_ok({"sent": 2, "gone": 0})
    note = {"type": "note", "text": "hi all", "by": "ada"}
    assert ws_outbox.json(ada) == ws_outbox.json(bob) == [note]
    assert ws_outbox.to(elsewhere) == []


def test_share_reports_gone_connections_and_throttled_ones_still_get_the_note(ws_client, ws_outbox):
    sender, throttled, gone = (ws_client.connect(channel="lobby") for _ in range(3))
    ws_outbox.throttle(throttled)
    ws_outbox.gone(gone)
    response = sender.send("share", {"text": "hi"}).assert_ok()
    # A 410 right after $connect may be a connect still in flight: gone, but not yet dead.
    assert response.data == {"sent": 2, "gone": 1}
    assert len(ws_outbox.to(throttled)) == 1


@examples
@given(body=ws_st.hostile_bodies(), route=st.sampled_from(["default", "notes"]))
def test_no_body_makes_a_server_error(ws_client, body, route):
    assert ws_client.connect().send(body, route=route).status_code < 500


@examples
@given(data=st.data())
def test_no_malformed_request_makes_a_server_error(ws_client, data):
    cid = ws_client.connect().connection_id
    request = data.draw(ws_st.malformed_requests("notes", secret=TEST_SECRET, connection_id=cid))
    response = ws_client.post_request(request)
    assert response.status_code < 500
    if response.status_code >= 400:
        assert set(response.data) == {"error"}  # generic: no detail, no traceback


def test_blocking_the_plugin_removes_its_handlers(ws_client, ws_plugins):
    ws_plugins.block("example")
    conn = ws_client.connect()
    conn.send({"handler": "echo"}).assert_refused(404)  # no $default handler is left
