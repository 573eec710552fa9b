"""The outbox: every Management API call captured per connection, without a network.

It answers in place of the HTTP exchange only, so these tests run the real sender: its
encoding, signing, retries, error parsing and gone-session bookkeeping.
"""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from apigw_ws.contrib.django.models import WebSocketSession

pytestmark = pytest.mark.django_db


@pytest.fixture
def conns(ws_client):
    return [ws_client.connect(channel="lobby") for _ in range(3)]


def test_a_handlers_reply_is_captured_for_its_connection(ws_client, ws_outbox):
    conn = ws_client.connect()
    conn.send("say", {"text": "hi"}).assert_ok()
    assert ws_outbox.json(conn) == [{"type": "said", "text": "hi"}]
    (message,) = ws_outbox
    assert message.endpoint == "https://testapi123.execute-api.us-east-1.amazonaws.com/test"


def test_a_fan_out_reaches_every_connection_once(conns, ws_outbox):
    report = WebSocketSession.objects.filter(channel_name="lobby").send_message({"n": 1})
    assert report.sent == 3
    assert ws_outbox.recipients == {c.connection_id for c in conns}
    assert all(ws_outbox.json(c) == [{"n": 1}] for c in conns)


def test_a_background_send_is_captured_too(conns, ws_outbox):
    results = WebSocketSession.objects.filter(channel_name="lobby").send_message(
        {"n": 1}, background=True
    )
    assert sorted(m.connection_id for m in ws_outbox) == sorted(c.connection_id for c in conns)
    message_id = results.fanout.message_id
    assert [m.json() for m in ws_outbox] == [{"n": 1, "id": message_id}] * 3


def test_a_gone_connection_is_reported_and_marked_disconnected(conns, ws_outbox):
    ws_outbox.gone(conns[0])
    WebSocketSession.objects.filter(connection_id=conns[0].connection_id).update(
        connected_at="2000-01-01T00:00:00Z"  # past the grace period of a fresh $connect
    )
    report = WebSocketSession.objects.filter(channel_name="lobby").send_message({"n": 1})
    assert (report.sent, report.gone) == (2, [conns[0].connection_id])
    assert ws_outbox.to(conns[0]) == []
    assert conns[0].session.connected is False


def test_a_throttled_connection_is_retried_and_then_gets_the_message(conns, ws_outbox):
    ws_outbox.throttle(conns[1], times=2)
    report = WebSocketSession.objects.filter(channel_name="lobby").send_message({"n": 1})
    assert (report.sent, report.retried) == (3, 2)
    statuses = [
        call.status for call in ws_outbox.calls if call.connection_id == conns[1].connection_id
    ]
    assert statuses == [429, 429, 200]


def test_a_connection_that_stays_throttled_is_reported_failed(conns, ws_outbox):
    ws_outbox.throttle(conns[1], times=None)
    report = WebSocketSession.objects.filter(channel_name="lobby").send_message({"n": 1})
    assert report.sent == 2
    assert [(f.connection_id, f.status) for f in report.failed] == [(conns[1].connection_id, 429)]


def test_a_too_large_answer_is_a_failure_for_that_recipient_only(conns, ws_outbox):
    ws_outbox.too_large(conns[2])
    report = WebSocketSession.objects.filter(channel_name="lobby").send_message({"n": 1})
    assert report.sent == 2
    assert [(f.connection_id, f.status) for f in report.failed] == [(conns[2].connection_id, 413)]


def test_close_is_captured_and_the_connection_is_gone_afterwards(ws_client, ws_outbox):
    conn = ws_client.connect()
    assert conn.session.close() is True
    assert ws_outbox.closed == [conn.connection_id]
    assert conn.session.close() is False


def test_clear_forgets_the_messages(ws_client, ws_outbox):
    conn = ws_client.connect()
    conn.send("say", {"text": "hi"})
    ws_outbox.clear()
    assert len(ws_outbox) == 0
    assert ws_outbox.calls == []


def test_ws_send_to_a_channel_lands_in_the_outbox(conns, ws_client, ws_outbox):
    other = ws_client.connect(channel="kitchen")
    out = StringIO()
    call_command("ws_send", "--channel", "lobby", "--data", '{"hi": 1}', "--json", stdout=out)
    assert json.loads(out.getvalue())["sent"] == 3
    assert ws_outbox.json() == [{"hi": 1}] * 3
    assert ws_outbox.to(other) == []


def test_ws_prune_marks_the_connections_the_outbox_says_are_gone(ws_client, ws_outbox):
    live, stale = ws_client.connect(), ws_client.connect()
    WebSocketSession.objects.update(connected_at=timezone.now() - timedelta(minutes=5))
    ws_outbox.gone(stale)
    call_command("ws_prune", stdout=StringIO())
    assert (live.session.connected, stale.session.connected) == (True, False)
    assert {(c.method, c.connection_id) for c in ws_outbox.calls} == {
        ("GET", live.connection_id),
        ("GET", stale.connection_id),
    }
